-- Customers only the ESP knows are ids in use that never pass through the id history.
with id_history as (
    select * from {{ ref('int_customer_id_history') }}
),

resolved as (
    select * from {{ ref('int_customers_resolved') }}
),

record_groups as (
    select * from {{ ref('int_customer_components') }}
),

crosswalk as (
    select * from {{ ref('int_identity_crosswalk') }}
),

ids_in_use as (
    select distinct customer_id
    from crosswalk
    where customer_id is not null
),

issued as (
    select customer_id, min(assigned_at) as issued_at
    from id_history
    group by customer_id
),

retirements as (
    select
        previous_customer_id as customer_id,
        max(assigned_at) as retired_at
    from id_history
    where change = 'merged'
    group by previous_customer_id
),

holders_first_seen_first as (
    select
        id_history.customer_id as held_customer_id,
        resolved.customer_id as current_customer_id,
        row_number() over (
            partition by id_history.customer_id order by record_groups.anchor_rank
        ) as holder_order
    from id_history
    inner join resolved on resolved.record_id = id_history.record_id
    inner join record_groups on record_groups.record_id = id_history.record_id
),

every_id as (
    select customer_id from issued
    union
    select customer_id from ids_in_use
)

select
    every_id.customer_id,
    case
        when ids_in_use.customer_id is not null then every_id.customer_id
        else holders.current_customer_id
    end as current_customer_id,
    ids_in_use.customer_id is null as is_retired,
    issued.issued_at,
    case when ids_in_use.customer_id is null then retirements.retired_at end as retired_at
from every_id
left join ids_in_use on ids_in_use.customer_id = every_id.customer_id
left join issued on issued.customer_id = every_id.customer_id
left join retirements on retirements.customer_id = every_id.customer_id
left join holders_first_seen_first as holders
    on holders.held_customer_id = every_id.customer_id
        and holders.holder_order = 1
