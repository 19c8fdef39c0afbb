with id_history as (
    select * from {{ ref('int_customer_id_history') }}
),

issued as (
    select customer_id, min(assigned_at) as issued_at
    from id_history
    group by customer_id
),

moves as (
    select * from id_history
    where change in ('merged', 'split')
),

events as (
    select
        run_id,
        assigned_at as changed_at,
        case when change = 'merged' then 'merge' else 'split' end as event_type,
        previous_customer_id as from_customer_id,
        customer_id as to_customer_id,
        max(match_rule) as match_rule,
        max(decided_by) as decided_by,
        max(decision_reason) as decision_reason,
        count(*) as moved_records,
        {{ dbt.listagg('record_id', "', '", 'order by record_id') }} as moved_record_ids
    from moves
    group by run_id, assigned_at, change, previous_customer_id, customer_id
),

joined_records as (
    select
        events.run_id,
        events.to_customer_id,
        {{ dbt.listagg('id_history.record_id', "', '", 'order by id_history.record_id') }}
            as joined_record_ids
    from events
    inner join id_history
        on id_history.run_id = events.run_id
            and id_history.customer_id = events.to_customer_id
            and id_history.change = 'issued'
    where events.event_type = 'merge'
    group by events.run_id, events.to_customer_id
)

select
    {{ dbt.hash(dbt.concat(['events.run_id', "'|'", 'events.from_customer_id', "'|'",
        'events.to_customer_id'])) }} as customer_id_event_key,
    events.run_id,
    events.changed_at,
    events.event_type,
    events.from_customer_id,
    events.to_customer_id,
    case
        when events.event_type = 'merge' then 'retired_into_survivor'
        when issued.issued_at < events.changed_at then 'restored'
        else 'new'
    end as id_outcome,
    events.match_rule,
    events.decided_by,
    events.decision_reason,
    events.moved_records,
    events.moved_record_ids,
    joined_records.joined_record_ids
from events
left join issued on issued.customer_id = events.to_customer_id
left join joined_records
    on joined_records.run_id = events.run_id
        and joined_records.to_customer_id = events.to_customer_id
        and events.event_type = 'merge'
