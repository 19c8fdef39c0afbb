-- One row per customer with a completed purchase up to the scoring date (var rfm_as_of_date,
-- default today): the purchase history the value models need. Purchases are counted per
-- purchase day, as in the BG/NBD literature (several orders on one day are one transaction).
-- BG/NBD inputs in weeks: repeat_purchases (x), recency_weeks (t_x, first to last purchase),
-- age_weeks (T, first purchase to the scoring date); Gamma-Gamma input: avg_repeat_value, the
-- mean value of the repeat purchase days.
with orders as (
    select * from {{ ref('int_order_margins') }}
    where customer_id is not null
        and order_date <= {{ scoring_as_of_date() }}
),

purchase_days as (
    select
        customer_id,
        order_date,
        sum(net_amount) as day_value
    from orders
    where is_purchase
    group by customer_id, order_date
),

numbered_days as (
    select
        customer_id,
        order_date,
        day_value,
        row_number() over (partition by customer_id order by order_date) as day_number,
        order_date - lag(order_date) over (partition by customer_id order by order_date)
            as gap_days
    from purchase_days
),

day_summary as (
    select
        customer_id,
        min(order_date) as first_purchase_date,
        max(order_date) as last_purchase_date,
        count(*) as purchase_days,
        avg(case when day_number > 1 then day_value end) as avg_repeat_value,
        percentile_cont(0.5) within group (order by gap_days) as usual_gap_days
    from numbered_days
    group by customer_id
),

order_summary as (
    select
        customer_id,
        count(distinct case when is_purchase then order_key end) as orders,
        sum(net_amount) as revenue_to_date,
        sum(gross_margin) as gross_margin_to_date,
        sum(case when order_date > {{ scoring_as_of_date() }} - 365 then net_amount else 0 end)
            as revenue_12m,
        sum(case when order_date > {{ scoring_as_of_date() }} - 365 then gross_margin else 0 end)
            as gross_margin_12m
    from orders
    group by customer_id
)

select
    day_summary.customer_id,
    {{ scoring_as_of_date() }} as as_of_date,
    day_summary.first_purchase_date,
    day_summary.last_purchase_date,
    order_summary.orders,
    day_summary.purchase_days,
    day_summary.purchase_days - 1 as repeat_purchases,
    cast((day_summary.last_purchase_date - day_summary.first_purchase_date) / 7.0
        as {{ type_double() }}) as recency_weeks,
    cast(({{ scoring_as_of_date() }} - day_summary.first_purchase_date) / 7.0
        as {{ type_double() }}) as age_weeks,
    cast(day_summary.avg_repeat_value as {{ type_double() }}) as avg_repeat_value,
    cast(day_summary.usual_gap_days as {{ type_double() }}) as usual_gap_days,
    order_summary.revenue_to_date,
    order_summary.gross_margin_to_date,
    order_summary.revenue_12m,
    order_summary.gross_margin_12m
from day_summary
inner join order_summary on order_summary.customer_id = day_summary.customer_id
