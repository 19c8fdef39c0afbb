-- One row per calendar month with orders or campaign sends: active, new, returning and lapsed
-- customers, net revenue, purchases, average order value, repeat-purchase rate and the email
-- funnel totals of the sends made that month.
--   active     bought in the month        new        first purchase ever in the month
--   returning  active and not new         lapsed     bought last month, not this month
with orders as (
    select * from {{ ref('fct_orders') }}
    where customer_id is not null
),

sends as (
    select * from {{ ref('fct_campaign_sends') }}
),

order_months as (
    select
        *,
        cast(extract(year from order_date) as integer) * 12
            + cast(extract(month from order_date) as integer) - 1 as month_index
    from orders
),

customer_months as (
    select
        customer_id,
        month_index,
        count(distinct case when is_purchase then order_key end) as purchases
    from order_months
    group by customer_id, month_index
    having count(distinct case when is_purchase then order_key end) > 0
),

first_purchase as (
    select customer_id, min(month_index) as first_month_index
    from customer_months
    group by customer_id
),

monthly_customers as (
    select
        customer_months.month_index,
        count(*) as active_customers,
        sum(case when first_purchase.first_month_index = customer_months.month_index
            then 1 else 0 end) as new_customers,
        sum(case when customer_months.purchases >= 2 then 1 else 0 end) as repeat_customers
    from customer_months
    inner join first_purchase on first_purchase.customer_id = customer_months.customer_id
    group by customer_months.month_index
),

lapsed as (
    select
        last_month.month_index + 1 as month_index,
        count(*) as lapsed_customers
    from customer_months as last_month
    left join customer_months as this_month
        on this_month.customer_id = last_month.customer_id
        and this_month.month_index = last_month.month_index + 1
    where this_month.customer_id is null
    group by last_month.month_index + 1
),

monthly_orders as (
    select
        month_index,
        sum(case when is_purchase then 1 else 0 end) as purchases,
        sum(net_amount) as net_revenue
    from order_months
    group by month_index
),

monthly_sends as (
    select
        cast(extract(year from sent_at) as integer) * 12
            + cast(extract(month from sent_at) as integer) - 1 as month_index,
        count(*) as emails_sent,
        sum(case when is_delivered then 1 else 0 end) as emails_delivered,
        sum(case when is_open then 1 else 0 end) as emails_opened,
        sum(case when is_click then 1 else 0 end) as emails_clicked
    from sends
    where sent_at is not null
    group by 1
),

months as (
    select month_index from monthly_orders
    union
    select month_index from monthly_sends
)

select
    cast(floor(months.month_index / 12.0) as integer) * 100 + mod(months.month_index, 12) + 1
        as year_month,
    coalesce(monthly_customers.active_customers, 0) as active_customers,
    coalesce(monthly_customers.new_customers, 0) as new_customers,
    coalesce(monthly_customers.active_customers, 0) - coalesce(monthly_customers.new_customers, 0)
        as returning_customers,
    coalesce(lapsed.lapsed_customers, 0) as lapsed_customers,
    coalesce(monthly_orders.purchases, 0) as purchases,
    coalesce(monthly_orders.net_revenue, 0) as net_revenue,
    cast(round(cast(monthly_orders.net_revenue as numeric)
        / nullif(monthly_orders.purchases, 0), 0) as {{ type_double() }}) as average_order_value,
    {{ percent('monthly_customers.repeat_customers', 'monthly_customers.active_customers') }}
        as repeat_purchase_rate_pct,
    coalesce(monthly_sends.emails_sent, 0) as emails_sent,
    coalesce(monthly_sends.emails_delivered, 0) as emails_delivered,
    coalesce(monthly_sends.emails_opened, 0) as emails_opened,
    coalesce(monthly_sends.emails_clicked, 0) as emails_clicked
from months
left join monthly_customers on monthly_customers.month_index = months.month_index
left join lapsed on lapsed.month_index = months.month_index
left join monthly_orders on monthly_orders.month_index = months.month_index
left join monthly_sends on monthly_sends.month_index = months.month_index
