{%- set as_of = "cast('" ~ var('anniversary_as_of_date') ~ "' as date)" if var('anniversary_as_of_date', none)
                else "current_date" -%}
-- One row per customer and anniversary (birthday, membership) falling within the next
-- var('anniversary_days') (30) days of the as-of date, for event-driven marketing (기념일).
with customers as (
    select * from {{ ref('int_customers_golden') }}
),

events as (
    select customer_id, 'birthday' as anniversary_type, '생일' as anniversary_type_ko,
        cast(birth_date as date) as event_date
    from customers
    where birth_date is not null
    union all
    select customer_id, 'membership' as anniversary_type, '가입 기념일' as anniversary_type_ko,
        member_since as event_date
    from customers
    where member_since is not null
),

upcoming as (
    select
        *,
        {{ next_anniversary('event_date', as_of) }} as anniversary_date
    from events
)

select
    customer_id,
    anniversary_type,
    anniversary_type_ko,
    anniversary_date,
    anniversary_date - {{ as_of }} as days_until,
    cast(extract(year from anniversary_date) - extract(year from event_date) as integer)
        as years
from upcoming
where anniversary_date - {{ as_of }} <= {{ var('anniversary_days') }}
    and anniversary_date > event_date
