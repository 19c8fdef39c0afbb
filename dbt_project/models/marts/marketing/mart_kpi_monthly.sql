{%- set line_types = ['merchandise', 'shipping', 'fee', 'discount', 'adjustment', 'donation'] -%}
with purchases as (
    select * from {{ ref('fct_purchases') }}
    where is_purchase
),

lines as (
    select * from {{ ref('fct_order_lines') }}
),

sends as (
    select * from {{ ref('fct_campaign_sends') }}
),

customer_months as (
    select
        customer_id,
        cast(extract(year from purchase_date) as integer) * 12
        + cast(extract(month from purchase_date) as integer) - 1 as month_index,
        count(*) as purchases,
        sum(merchandise_value) as merchandise_value
    from purchases
    group by 1, 2
),

first_purchase as (
    select customer_id, min(month_index) as first_month_index
    from customer_months
    group by 1
),

monthly_customers as (
    select
        customer_months.month_index,
        count(*) as active_customers,
        sum(case when first_purchase.first_month_index = customer_months.month_index
                then 1
            else 0
        end) as new_customers,
        sum(case when customer_months.purchases >= 2 then 1 else 0 end) as repeat_customers,
        sum(customer_months.purchases) as purchases,
        sum(customer_months.merchandise_value) as purchase_value
    from customer_months
    inner join first_purchase on first_purchase.customer_id = customer_months.customer_id
    group by 1
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
    group by 1
),

monthly_revenue as (
    select
        cast(extract(year from order_date) as integer) * 12
        + cast(extract(month from order_date) as integer) - 1 as month_index,
        sum(case when document_type = 'order' then booked_amount else 0 end) as gross_sales,
        -sum(case when document_type = 'credit_note' then booked_amount else 0 end) as returns,
        -sum(case when is_credit and return_match_rule = 'unallocated' then booked_amount else 0 end)
            as returns_of_unseen_sales,
        sum(booked_amount) as net_revenue,
        {%- for line_type in line_types %}
        sum(case when line_type = '{{ line_type }}' then booked_amount else 0 end)
            as {{ line_type }}_revenue,
        {%- endfor %}
        sum(cancelled_amount) as cancelled_amount,
        sum(case when customer_id is null then booked_amount else 0 end) as anonymous_revenue
    from lines
    group by 1
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
    select month_index from monthly_revenue
    union
    select month_index from monthly_customers
    union
    select month_index from monthly_sends
)

select
    cast(floor(months.month_index / 12.0) as integer) * 100 + mod(months.month_index, 12) + 1
        as year_month,
    cast(coalesce(monthly_customers.active_customers, 0) as bigint) as active_customers,
    cast(coalesce(monthly_customers.new_customers, 0) as bigint) as new_customers,
    cast(
        coalesce(monthly_customers.active_customers, 0)
        - coalesce(monthly_customers.new_customers, 0) as bigint
    ) as returning_customers,
    cast(coalesce(lapsed.lapsed_customers, 0) as bigint) as lapsed_customers,
    cast(coalesce(monthly_customers.purchases, 0) as bigint) as purchases,
    {{ money('monthly_customers.purchase_value / nullif(monthly_customers.purchases, 0)') }}
        as average_purchase_value,
    {{ percent('monthly_customers.repeat_customers', 'monthly_customers.active_customers') }}
        as repeat_purchase_rate_pct,
    {%- for column in ['gross_sales', 'returns', 'returns_of_unseen_sales', 'net_revenue'] %}
    {{ money('coalesce(monthly_revenue.' ~ column ~ ', 0)') }} as {{ column }},
    {%- endfor %}
    {%- for line_type in line_types %}
    {{ money('coalesce(monthly_revenue.' ~ line_type ~ '_revenue, 0)') }} as {{ line_type }}_revenue,
    {%- endfor %}
    {{ money('coalesce(monthly_revenue.cancelled_amount, 0)') }} as cancelled_amount,
    {{ money('coalesce(monthly_revenue.anonymous_revenue, 0)') }} as anonymous_revenue,
    coalesce(monthly_sends.emails_sent, 0) as emails_sent,
    coalesce(monthly_sends.emails_delivered, 0) as emails_delivered,
    coalesce(monthly_sends.emails_opened, 0) as emails_opened,
    coalesce(monthly_sends.emails_clicked, 0) as emails_clicked
from months
left join monthly_customers on monthly_customers.month_index = months.month_index
left join lapsed on lapsed.month_index = months.month_index
left join monthly_revenue on monthly_revenue.month_index = months.month_index
left join monthly_sends on monthly_sends.month_index = months.month_index
