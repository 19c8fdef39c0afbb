-- One row per order of fct_orders: net amount and gross margin (net amount − cost of goods).
-- Cost of goods is quantity × the product's unit cost for lines that count (not cancelled, not
-- a shop order returned in whole); a line or order with no known cost is costed at
-- (1 − var('default_margin_rate')) of its amount. ERP returns carry negative quantities and
-- amounts, so their margin is negative and cancels the original sale's.
with orders as (
    select * from {{ ref('fct_orders') }}
),

lines as (
    select * from {{ ref('fct_order_lines') }}
),

products as (
    select * from {{ ref('dim_product') }}
),

order_costs as (
    select
        lines.order_key,
        sum(
            case
                when lines.net_line_amount = 0 then 0
                when products.unit_cost is null
                    then lines.net_line_amount * (1 - {{ var('default_margin_rate') }})
                else lines.quantity * products.unit_cost
            end
        ) as cost_of_goods
    from lines
    left join products on products.product_code = lines.product_code
    group by lines.order_key
)

select
    orders.order_key,
    orders.customer_id,
    orders.order_date,
    orders.is_purchase,
    orders.net_amount,
    cast(
        orders.net_amount - coalesce(
            order_costs.cost_of_goods,
            orders.net_amount * (1 - {{ var('default_margin_rate') }})
        ) as {{ type_double() }}
    ) as gross_margin
from orders
left join order_costs on order_costs.order_key = orders.order_key
