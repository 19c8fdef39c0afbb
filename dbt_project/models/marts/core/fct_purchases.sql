with orders as (
    select * from {{ ref('fct_orders') }}
    where customer_id is not null
),

purchase_orders as (
    select
        customer_id,
        order_date,
        order_key,
        ordered_at,
        customer_value_amount,
        customer_value_margin,
        document_type = 'order' and customer_value_amount > 0 as is_purchase_order
    from orders
    where customer_value_amount <> 0
        or (document_type = 'order' and merchandise_booked_amount <> 0)
),

days as (
    select
        customer_id,
        order_date as purchase_date,
        sum(case when is_purchase_order then 1 else 0 end) as purchase_orders,
        sum(customer_value_amount) as merchandise_value,
        sum(customer_value_margin) as gross_margin,
        min(case when is_purchase_order then ordered_at end) as first_ordered_at
    from purchase_orders
    group by customer_id, order_date
)

select
    {{ dbt.concat(["customer_id", "':'", "cast(purchase_date as " ~ dbt.type_string() ~ ")"]) }}
        as purchase_key,
    customer_id,
    purchase_date,
    purchase_orders > 0 as is_purchase,
    cast(purchase_orders as bigint) as purchase_orders,
    cast(merchandise_value as {{ amount_type() }}) as merchandise_value,
    cast(gross_margin as {{ amount_type() }}) as gross_margin,
    first_ordered_at
from days
where purchase_orders > 0 or merchandise_value <> 0
