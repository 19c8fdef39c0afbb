with tickets as (
    select * from {{ ref('stg_callcenter__tickets') }}
),

calls as (
    select call_id, customer_id from {{ ref('fct_calls') }}
)

select
    tickets.ticket_id,
    tickets.call_id,
    calls.customer_id,
    tickets.ticket_category,
    tickets.ticket_status,
    tickets.received_at,
    cast(tickets.received_at as date) as received_date,
    tickets.assigned_at,
    tickets.resolved_at,
    {{ hours_between('tickets.received_at', 'tickets.assigned_at') }} as hours_to_assign,
    {{ hours_between('tickets.received_at', 'tickets.resolved_at') }} as hours_to_resolve,
    tickets.agent_id
from tickets
left join calls on calls.call_id = tickets.call_id
