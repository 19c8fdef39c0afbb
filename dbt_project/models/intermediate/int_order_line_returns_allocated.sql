-- One row per credit line (money going back) of int_order_lines_unioned: the sale line it takes
-- back, by the first rule that finds one —
--   line_reference     the source names the original line (ERP 원행번호, a shop return claim);
--   order_and_product  the source names the original order: its line of the same product;
--   customer_and_product  no reference (ERP slips without 원주문번호, credit notes of shops and
--                      retailers that never name the invoice): the same customer's latest earlier
--                      sale line of the same product;
--   unallocated        none found: the credit stays on its own document and date.
-- A credit cannot take back more than the sale line booked (bought and not cancelled): with a
-- named original the line is held as an exception (returned_more_than_bought); with an inferred
-- one it stays unallocated. A named original that does not exist, or has no line of the
-- product, is an exception too (int_order_line_exceptions holds the reasons).
with lines as (
    select * from {{ ref('int_order_lines_unioned') }}
),

crosswalk as (
    select * from {{ ref('int_identity_crosswalk') }}
),

resolved as (
    select lines.*, crosswalk.customer_id
    from lines
    left join crosswalk
        on crosswalk.source = lines.customer_source
            and crosswalk.source_key = lines.customer_source_key
),

credit_lines as (
    select *, -quantity as credit_quantity
    from resolved
    where is_credit and quantity < 0
),

sale_lines as (
    select *, quantity - cancelled_quantity as booked_quantity
    from resolved
    where not is_credit and is_paid and quantity - cancelled_quantity > 0
),

known_orders as (
    select distinct order_key from lines
    where not is_credit
),

by_line as (
    select credit_lines.line_key, sale_lines.line_key as sale_line_key
    from credit_lines
    inner join sale_lines on sale_lines.line_key = credit_lines.original_line_key
),

by_order as (
    select
        credit_lines.line_key,
        sale_lines.line_key as sale_line_key,
        row_number() over (
            partition by credit_lines.line_key
            order by
                sale_lines.booked_quantity >= credit_lines.credit_quantity desc,
                sale_lines.line_key
        ) as candidate_rank
    from credit_lines
    inner join sale_lines
        on sale_lines.order_key = credit_lines.original_order_key
            and sale_lines.product_code = credit_lines.product_code
    where credit_lines.line_key not in (select line_key from by_line)
),

by_customer as (
    select
        credit_lines.line_key,
        sale_lines.line_key as sale_line_key,
        row_number() over (
            partition by credit_lines.line_key
            order by sale_lines.ordered_at desc, sale_lines.line_key desc
        ) as candidate_rank
    from credit_lines
    inner join sale_lines
        on sale_lines.customer_id = credit_lines.customer_id
            and sale_lines.product_code = credit_lines.product_code
            and sale_lines.ordered_at <= credit_lines.ordered_at
    where credit_lines.original_order_key is null
),

matched as (
    select
        credit_lines.*,
        coalesce(by_line.sale_line_key, by_order.sale_line_key, by_customer.sale_line_key)
            as sale_line_key,
        case
            when by_line.sale_line_key is not null then 'line_reference'
            when by_order.sale_line_key is not null then 'order_and_product'
            when by_customer.sale_line_key is not null then 'customer_and_product'
            else 'unallocated'
        end as match_rule
    from credit_lines
    left join by_line on by_line.line_key = credit_lines.line_key
    left join by_order
        on by_order.line_key = credit_lines.line_key
            and by_order.candidate_rank = 1
    left join by_customer on by_customer.line_key = credit_lines.line_key
        and by_customer.candidate_rank = 1
),

-- Units taken back from each sale line so far, credit by credit in time order.
running as (
    select
        matched.*,
        sale_lines.booked_quantity,
        sum(matched.credit_quantity) over (
            partition by matched.sale_line_key
            order by matched.ordered_at, matched.line_key
            rows between unbounded preceding and current row
        ) as returned_so_far
    from matched
    left join sale_lines on sale_lines.line_key = matched.sale_line_key
)

select
    running.line_key,
    running.order_key,
    running.customer_id,
    running.credit_quantity,
    case
        when running.amount is null then null
        when running.original_order_key is not null
            and running.original_order_key not in (select order_key from known_orders)
            then null
        when running.returned_so_far > running.booked_quantity then null
        else running.sale_line_key
    end as sale_line_key,
    case
        when running.amount is null then 'unallocated'
        when running.returned_so_far > running.booked_quantity
            and running.match_rule = 'customer_and_product' then 'unallocated'
        else running.match_rule
    end as match_rule,
    case
        when running.amount is null then 'unknown_order_item'
        when running.original_order_key is not null
            and running.original_order_key not in (select order_key from known_orders)
            then 'unknown_original_order'
        when running.original_order_key is not null and running.sale_line_key is null
            then 'not_on_original_order'
        when running.returned_so_far > running.booked_quantity
            and running.match_rule <> 'customer_and_product' then 'returned_more_than_bought'
    end as exception_code
from running
