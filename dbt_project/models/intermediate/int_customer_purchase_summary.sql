with purchases as (
    select * from {{ ref('fct_purchases') }}
    where purchase_date <= {{ scoring_as_of_date() }}
),

scoring_date as (
    select * from {{ ref('int_scoring_date') }}
),

numbered_days as (
    select
        customer_id,
        purchase_date,
        merchandise_value,
        row_number() over (partition by customer_id order by purchase_date) as day_number,
        purchase_date - lag(purchase_date) over (partition by customer_id order by purchase_date)
            as gap_days
    from purchases
    where is_purchase
),

day_summary as (
    select
        customer_id,
        min(purchase_date) as first_purchase_date,
        max(purchase_date) as last_purchase_date,
        count(*) as purchase_days,
        avg(case when day_number > 1 then merchandise_value end) as avg_repeat_value,
        percentile_cont(0.5) within group (order by gap_days) as usual_gap_days
    from numbered_days
    group by customer_id
),

value_summary as (
    select
        purchases.customer_id,
        sum(purchases.purchase_orders) as orders,
        sum(purchases.merchandise_value) as revenue_to_date,
        sum(purchases.gross_margin) as gross_margin_to_date,
        sum(case when purchases.purchase_date > scoring_date.as_of_date - 365
                then purchases.merchandise_value
            else 0
        end) as revenue_12m,
        sum(case when purchases.purchase_date > scoring_date.as_of_date - 365
                then purchases.gross_margin
            else 0
        end) as gross_margin_12m
    from purchases
    cross join scoring_date
    group by purchases.customer_id
)

select
    day_summary.customer_id,
    scoring_date.as_of_date,
    day_summary.first_purchase_date,
    day_summary.last_purchase_date,
    value_summary.orders,
    day_summary.purchase_days,
    day_summary.purchase_days - 1 as repeat_purchases,
    cast(
        (day_summary.last_purchase_date - day_summary.first_purchase_date) / 7.0
        as {{ type_double() }}
    ) as recency_weeks,
    cast(
        (scoring_date.as_of_date - day_summary.first_purchase_date) / 7.0
        as {{ type_double() }}
    ) as age_weeks,
    cast(day_summary.avg_repeat_value as {{ type_double() }}) as avg_repeat_value,
    cast(day_summary.usual_gap_days as {{ type_double() }}) as usual_gap_days,
    cast(value_summary.revenue_to_date as {{ amount_type() }}) as revenue_to_date,
    cast(value_summary.gross_margin_to_date as {{ amount_type() }}) as gross_margin_to_date,
    cast(value_summary.revenue_12m as {{ amount_type() }}) as revenue_12m,
    cast(value_summary.gross_margin_12m as {{ amount_type() }}) as gross_margin_12m
from day_summary
inner join value_summary on value_summary.customer_id = day_summary.customer_id
cross join scoring_date
