-- Fails when one customer id is held by two groups of records, or one group holds two ids:
-- the id history must give every group exactly one id of its own.
select customer_id as id_or_group
from {{ ref('int_customers_resolved') }}
group by customer_id
having count(distinct anchor_record_id) > 1

union all

select anchor_record_id as id_or_group
from {{ ref('int_customers_resolved') }}
group by anchor_record_id
having count(distinct customer_id) > 1
