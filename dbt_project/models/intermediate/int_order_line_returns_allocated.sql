{%- set share = 'credit_status.amount * ' %}
{%- set per_unit = ' / credit_status.credit_quantity' %}
with lines as (
    select * from {{ ref('int_order_lines_unioned') }}
),

crosswalk as (
    select * from {{ ref('int_identity_crosswalk') }}
),

documents as (
    select * from {{ ref('int_order_documents') }}
),

-- A credit document stating a refund beyond its own lines and beyond what its original order
-- was paid, with the refunds of the order's credit documents before it (a shop claim refunding
-- 100× the order): every line of it is held, so no figure is built on it. (A document whose
-- lines themselves take back more than was bought is held line by line, below.)
document_lines as (
    select order_key, sum(amount) as line_amount
    from lines
    group by order_key
),

refunds as (
    select
        credits.order_key,
        -credits.document_amount as stated_refund,
        -document_lines.line_amount as line_refund,
        sum(-credits.document_amount) over (
            partition by credits.original_order_key
            order by credits.ordered_at, credits.order_key
            rows between unbounded preceding and current row
        ) as refunded_so_far,
        originals.document_amount as paid_amount
    from documents as credits
    inner join documents as originals on originals.order_key = credits.original_order_key
    inner join document_lines on document_lines.order_key = credits.order_key
    where credits.document_type = 'credit_note'
        and credits.document_amount is not null
        and originals.is_paid
),

overpaid_documents as (
    select order_key from refunds
    where refunded_so_far > paid_amount and stated_refund > line_refund
),

resolved as (
    select lines.*, crosswalk.customer_id
    from lines
    left join crosswalk
        on crosswalk.source = lines.customer_source
            and crosswalk.source_key = lines.customer_source_key
),

all_credit_lines as (
    select *, -quantity as credit_quantity
    from resolved
    where is_credit and quantity < 0
),

credit_lines as (
    select * from all_credit_lines
    where
        not exists (
            select 1 from overpaid_documents
            where overpaid_documents.order_key = all_credit_lines.order_key
        )
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
                sale_lines.line_number,
                sale_lines.line_key
        ) as candidate_rank
    from credit_lines
    inner join sale_lines
        on sale_lines.order_key = credit_lines.original_order_key
            and sale_lines.product_code = credit_lines.product_code
    where
        not exists (
            select 1 from by_line
            where by_line.line_key = credit_lines.line_key
        )
),

-- The one sale line a credit naming its original takes back from.
named as (
    select
        credit_lines.line_key,
        coalesce(by_line.sale_line_key, by_order.sale_line_key) as sale_line_key,
        case when by_line.sale_line_key is not null then 'line_reference'
            else 'order_and_product'
        end as match_rule
    from credit_lines
    left join by_line on by_line.line_key = credit_lines.line_key
    left join by_order
        on by_order.line_key = credit_lines.line_key
            and by_order.candidate_rank = 1
    where credit_lines.amount is not null
        and coalesce(by_line.sale_line_key, by_order.sale_line_key) is not null
),

-- Walk per named sale line: the sale, then the credits naming it in time order.
named_steps as (
    select
        sale_lines.line_key as walk_key,
        cast(1 as bigint) as step,
        sale_lines.line_key,
        true as is_sale,
        sale_lines.booked_quantity as quantity
    from sale_lines
    where sale_lines.line_key in (select sale_line_key from named)

    union all

    select
        named.sale_line_key as walk_key,
        1 + row_number() over (
            partition by named.sale_line_key
            order by
                credit_lines.ordered_at, credit_lines.order_key, credit_lines.line_number,
                credit_lines.line_key
        ) as step,
        credit_lines.line_key,
        false as is_sale,
        credit_lines.credit_quantity as quantity
    from named
    inner join credit_lines on credit_lines.line_key = named.line_key
),

named_walk as (
    {{ walk_credits('named_steps') }}
),

named_taken as (
    select named.sale_line_key, sum(credit_lines.credit_quantity) as taken_quantity
    from named_walk
    inner join named on named.line_key = named_walk.line_key
    inner join credit_lines on credit_lines.line_key = named.line_key
    where not named_walk.is_sale and named_walk.is_accepted
    group by named.sale_line_key
),

inferred_credits as (
    select
        *,
        customer_id || '|' || product_code as walk_key
    from credit_lines
    where original_order_key is null
        and customer_id is not null
        and product_code is not null
        and amount is not null
),

-- Walk per customer and product: their sale lines (less what named credits took) and the
-- credits naming nothing, in time order; a sale on a credit's own day comes before it.
inferred_events as (
    select
        inferred.walk_key,
        sale_lines.line_key,
        true as is_sale,
        sale_lines.booked_quantity - coalesce(named_taken.taken_quantity, 0) as quantity,
        sale_lines.ordered_at,
        sale_lines.order_key,
        sale_lines.line_number
    from sale_lines
    inner join (select distinct walk_key from inferred_credits) as inferred
        on inferred.walk_key = sale_lines.customer_id || '|' || sale_lines.product_code
    left join named_taken on named_taken.sale_line_key = sale_lines.line_key
    where sale_lines.booked_quantity > coalesce(named_taken.taken_quantity, 0)

    union all

    select
        walk_key,
        line_key,
        false as is_sale,
        credit_quantity as quantity,
        ordered_at,
        order_key,
        line_number
    from inferred_credits
),

inferred_steps as (
    select
        walk_key,
        row_number() over (
            partition by walk_key
            order by ordered_at, is_sale desc, order_key, line_number, line_key
        ) as step,
        line_key,
        is_sale,
        quantity
    from inferred_events
),

inferred_walk as (
    {{ walk_credits('inferred_steps') }}
),

-- Units are taken back latest sale first: the units of sale s still there when credit c comes
-- are those s added (units_before..units_after) below the lowest level the units fell to
-- between them; c takes the levels from its units_after to its units_before.
inferred_pairs as (
    select
        credit.line_key,
        earlier.line_key as sale_line_key,
        earlier.is_sale,
        earlier.step as sale_step,
        credit.units_before as credit_top,
        credit.units_after as credit_bottom,
        earlier.units_before as sale_bottom,
        earlier.units_after as sale_top,
        min(earlier.units_after) over (
            partition by credit.line_key
            order by earlier.step desc
            rows between unbounded preceding and 1 preceding
        ) as lowest_since
    from inferred_walk as credit
    inner join inferred_walk as earlier
        on earlier.walk_key = credit.walk_key
            and earlier.step between 1 and credit.step - 1
    where not credit.is_sale and credit.is_accepted and credit.step > 0
),

inferred_taken as (
    select
        line_key,
        sale_line_key,
        sale_step,
        least(sale_top, coalesce(lowest_since, sale_top), credit_top)
        - greatest(sale_bottom, credit_bottom) as allocated_quantity
    from inferred_pairs
    where is_sale
),

allocations as (
    select
        named.line_key,
        named.sale_line_key,
        credit_lines.credit_quantity as allocated_quantity,
        cast(1 as bigint) as allocation_rank,
        named.match_rule
    from named
    inner join named_walk on named_walk.line_key = named.line_key and not named_walk.is_sale
    inner join credit_lines on credit_lines.line_key = named.line_key
    where named_walk.is_accepted

    union all

    select
        line_key,
        sale_line_key,
        allocated_quantity,
        row_number() over (partition by line_key order by sale_step desc) as allocation_rank,
        'customer_and_product' as match_rule
    from inferred_taken
    where allocated_quantity > 0
),

-- The credit's amount shared by units, in the currency's decimals; the shares add up to the
-- credit exactly.
allocated_amounts as (
    select
        allocations.*,
        sum(allocations.allocated_quantity) over (
            partition by allocations.line_key
            order by allocations.allocation_rank
            rows between unbounded preceding and current row
        ) as units_through
    from allocations
),

-- Plain joins, not `in (select …)` inside the case: PostgreSQL cannot turn a subquery in a case
-- into a join, and rescans a list of every order per credit line once the list outgrows work_mem.
allocated_lines as (
    select distinct line_key from allocations
),

credit_status as (
    select
        all_credit_lines.*,
        named.match_rule as named_rule,
        case
            when overpaid_documents.order_key is not null then 'refund_more_than_paid'
            when all_credit_lines.amount is null then 'unknown_order_item'
            when all_credit_lines.original_order_key is not null and known_orders.order_key is null
                then 'unknown_original_order'
            when all_credit_lines.original_order_key is not null and named.line_key is null
                then 'not_on_original_order'
            when named.line_key is not null and allocated_lines.line_key is null
                then 'returned_more_than_bought'
        end as exception_code
    from all_credit_lines
    left join named on named.line_key = all_credit_lines.line_key
    left join overpaid_documents on overpaid_documents.order_key = all_credit_lines.order_key
    left join known_orders on known_orders.order_key = all_credit_lines.original_order_key
    left join allocated_lines on allocated_lines.line_key = all_credit_lines.line_key
)

select
    credit_status.line_key,
    credit_status.order_key,
    credit_status.customer_id,
    credit_status.credit_quantity,
    allocated_amounts.sale_line_key,
    coalesce(allocated_amounts.allocated_quantity, 0) as allocated_quantity,
    cast(case when allocated_amounts.line_key is null then 0
        else {{ money(share ~ 'allocated_amounts.units_through' ~ per_unit) }}
            - {{ money(share ~ '(allocated_amounts.units_through'
                ~ ' - allocated_amounts.allocated_quantity)' ~ per_unit) }}
    end as {{ amount_type() }}) as allocated_amount,
    allocated_amounts.allocation_rank,
    case
        when allocated_amounts.match_rule is not null then allocated_amounts.match_rule
        when credit_status.exception_code = 'returned_more_than_bought'
            then credit_status.named_rule
        else 'unallocated'
    end as match_rule,
    credit_status.exception_code
from credit_status
left join allocated_amounts on allocated_amounts.line_key = credit_status.line_key
