{%- set directions = ['inbound', 'outbound'] -%}
{%- set categories = ['inquiry', 'complaint', 'return', 'cancellation', 'other'] -%}
{#- A day the call center's data covers: its call figures are counts (0 on a quiet day). -#}
{%- set on_call_day = 'days.service_date between call_coverage.first_call_date'
    ~ ' and call_coverage.last_call_date' -%}
with calls as (
    select * from {{ ref('fct_calls') }}
),

tickets as (
    select * from {{ ref('fct_service_tickets') }}
),

purchases as (
    select * from {{ ref('fct_purchases') }}
    where is_purchase
),

daily_calls as (
    select
        call_date as service_date,
        count(*) as calls,
        {%- for direction in directions %}
        sum(case when direction = '{{ direction }}' then 1 else 0 end) as {{ direction }}_calls,
        {%- endfor %}
        {%- for category in categories %}
        sum(case when call_category = '{{ category }}' then 1 else 0 end) as {{ category }}_calls,
        {%- endfor %}
        avg(duration_seconds) as avg_handling_seconds,
        avg(satisfaction_score) as avg_satisfaction,
        count(satisfaction_score) as satisfaction_responses
    from calls
    group by call_date
),

daily_orders as (
    select purchase_date as service_date, sum(purchase_orders) as orders
    from purchases
    group by purchase_date
),

daily_tickets as (
    select
        received_date as service_date,
        count(*) as tickets_received,
        sum(case when resolved_at is not null then 1 else 0 end) as tickets_resolved,
        percentile_cont(0.5) within group (order by hours_to_resolve) as median_hours_to_resolve,
        percentile_cont(0.9) within group (order by hours_to_resolve) as p90_hours_to_resolve
    from tickets
    group by received_date
),

call_coverage as (
    select min(call_date) as first_call_date, max(call_date) as last_call_date
    from calls
),

days as (
    select service_date from daily_calls
    union
    select service_date from daily_orders
    union
    select service_date from daily_tickets
)

select
    days.service_date,
    coalesce({{ on_call_day }}, false) as has_call_data,
    case when {{ on_call_day }} then coalesce(daily_calls.calls, 0) end as calls,
    {%- for direction in directions %}
    case when {{ on_call_day }} then coalesce(daily_calls.{{ direction }}_calls, 0) end as {{ direction }}_calls,
    {%- endfor %}
    {%- for category in categories %}
    case when {{ on_call_day }} then coalesce(daily_calls.{{ category }}_calls, 0) end as {{ category }}_calls,
    {%- endfor %}
    coalesce(daily_orders.orders, 0) as orders,
    cast(round(cast(
        1000.0 * case when {{ on_call_day }} then coalesce(daily_calls.complaint_calls, 0) end
        / nullif(daily_orders.orders, 0) as numeric
    ), 2) as {{ type_double() }})
        as complaints_per_1000_orders,
    cast(round(cast(daily_calls.avg_handling_seconds as numeric), 1) as {{ type_double() }})
        as avg_handling_seconds,
    cast(round(cast(daily_calls.avg_satisfaction as numeric), 2) as {{ type_double() }})
        as avg_satisfaction,
    case when {{ on_call_day }} then coalesce(daily_calls.satisfaction_responses, 0) end as satisfaction_responses,
    coalesce(daily_tickets.tickets_received, 0) as tickets_received,
    coalesce(daily_tickets.tickets_resolved, 0) as tickets_resolved,
    cast(round(cast(daily_tickets.median_hours_to_resolve as numeric), 2) as {{ type_double() }})
        as median_hours_to_resolve,
    cast(round(cast(daily_tickets.p90_hours_to_resolve as numeric), 2) as {{ type_double() }})
        as p90_hours_to_resolve
from days
left join daily_calls on daily_calls.service_date = days.service_date
left join daily_orders on daily_orders.service_date = days.service_date
left join daily_tickets on daily_tickets.service_date = days.service_date
cross join call_coverage
