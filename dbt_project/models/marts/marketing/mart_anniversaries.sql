{%- set as_of = "cast('" ~ var('anniversary_as_of_date') ~ "' as date)" if var('anniversary_as_of_date', none)
                else scoring_as_of_date() -%}
with customers as (
    select * from {{ ref('int_customers_golden') }}
),

first_purchases as (
    select customer_id, min(purchase_date) as first_purchase_date
    from {{ ref('fct_purchases') }}
    where is_purchase
    group by customer_id
),

events as (
    select
        customer_id, 'birthday' as anniversary_type, '생일' as anniversary_type_ko,
        cast(birth_date as date) as event_date
    from customers
    where birth_date is not null
    union all
    select
        customer_id, 'membership' as anniversary_type, '가입 기념일' as anniversary_type_ko,
        member_since as event_date
    from customers
    where member_since is not null
    union all
    select
        customer_id, 'first_purchase' as anniversary_type, '첫 구매 기념일' as anniversary_type_ko,
        first_purchase_date as event_date
    from first_purchases
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
