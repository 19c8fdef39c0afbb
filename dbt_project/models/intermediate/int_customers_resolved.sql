with groups as (
    select * from {{ ref('int_customer_components') }}
),

id_history as (
    select * from {{ ref('int_customer_id_history') }}
),

id_history_latest_first as (
    select
        record_id,
        customer_id,
        row_number() over (partition by record_id order by assigned_at desc) as recency
    from id_history
),

current_ids as (
    select record_id, customer_id
    from id_history_latest_first
    where recency = 1
)

select
    groups.record_id,
    groups.source,
    groups.source_key,
    current_ids.customer_id,
    groups.group_anchor_record_id as anchor_record_id,
    groups.match_rule,
    groups.match_confidence
from groups
inner join current_ids on current_ids.record_id = groups.record_id
