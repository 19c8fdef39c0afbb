-- Row-count reconciliation staging → fact: every staged ERP order line and shop order item is
-- in fct_order_lines exactly once.
with staged as (
    select (select count(*) from {{ ref('stg_erp__order_lines') }})
         + (select count(*) from {{ ref('stg_shop__order_items') }}) as staged_lines
),

fact as (
    select count(*) as fact_lines from {{ ref('fct_order_lines') }}
)

select staged.staged_lines, fact.fact_lines
from staged
cross join fact
where staged.staged_lines <> fact.fact_lines
