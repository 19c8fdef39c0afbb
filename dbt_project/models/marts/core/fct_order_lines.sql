with lines as (
    select * from {{ ref('int_order_lines_unioned') }}
),

allocations as (
    select * from {{ ref('int_order_line_returns_allocated') }}
),

exceptions as (
    select * from {{ ref('int_order_line_exceptions') }}
),

crosswalk as (
    select * from {{ ref('int_identity_crosswalk') }}
),

products as (
    select * from {{ ref('dim_product') }}
),

kept_lines as (
    select lines.*
    from lines
    left join exceptions on exceptions.line_key = lines.line_key
    where exceptions.line_key is null
),

booked as (
    select
        kept_lines.*,
        case
            when cancelled_quantity = 0 then cast(0 as {{ amount_type() }})
            when cancelled_quantity = quantity then amount
            else cast(round(amount * cancelled_quantity / quantity, 2) as {{ amount_type() }})
        end as cancelled_amount,
        case when is_paid then quantity - cancelled_quantity else 0 end as booked_quantity
    from kept_lines
),

returns_per_sale_line as (
    select
        sale_line_key,
        sum(allocated_quantity) as returned_quantity,
        -sum(allocated_amount) as returned_amount
    from allocations
    where sale_line_key is not null and exception_code is null
    group by sale_line_key
),

-- One row per credit line: the sale line it takes back (the latest, when several) and how.
credit_ties as (
    select line_key, sale_line_key, match_rule
    from allocations
    where coalesce(allocation_rank, 1) = 1
),

staged as (
    select
        booked.*,
        case when booked.is_paid then booked.amount - booked.cancelled_amount
            else cast(0 as {{ amount_type() }})
        end as booked_amount,
        coalesce(returns_per_sale_line.returned_quantity, 0) as returned_quantity,
        coalesce(returns_per_sale_line.returned_amount, 0) as returned_amount,
        credit_ties.sale_line_key as returns_line_key,
        credit_ties.match_rule as return_match_rule
    from booked
    left join returns_per_sale_line on returns_per_sale_line.sale_line_key = booked.line_key
    left join credit_ties on credit_ties.line_key = booked.line_key
),

netted as (
    select
        staged.*,
        case
            when staged.returns_line_key is not null then 0
            else staged.booked_quantity - staged.returned_quantity
        end as net_quantity,
        case
            when staged.returns_line_key is not null then cast(0 as {{ amount_type() }})
            else staged.booked_amount - staged.returned_amount
        end as net_amount
    from staged
)

select
    netted.line_key,
    netted.order_key,
    netted.source,
    netted.document_type,
    netted.order_status,
    crosswalk.customer_id,
    netted.customer_source = 'shop_guest_order' as is_guest_order,
    netted.order_date,
    netted.ordered_at,
    netted.channel_code,
    netted.product_code,
    netted.line_type,
    netted.is_credit,
    netted.quantity,
    netted.unit_price,
    netted.amount as gross_amount,
    netted.cancelled_quantity,
    netted.cancelled_amount,
    netted.booked_quantity,
    netted.booked_amount,
    netted.returned_quantity,
    netted.returned_amount,
    netted.net_quantity,
    netted.net_amount,
    netted.returns_line_key,
    netted.return_match_rule,
    case when netted.line_type = 'merchandise' then
            cast(round(
                netted.net_amount - case
                    when products.unit_cost is not null then netted.net_quantity * products.unit_cost
                    else netted.net_amount * (1 - {{ var('default_margin_rate') }})
                end, 2
            ) as {{ amount_type() }})
    end as net_margin
from netted
left join crosswalk
    on crosswalk.source = netted.customer_source
        and crosswalk.source_key = netted.customer_source_key
left join products on products.product_code = netted.product_code
