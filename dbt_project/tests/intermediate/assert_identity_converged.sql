{{ config(meta={'dagster': {'ref': {'name': 'int_customers_resolved'}}}) }}
-- Fails when a match key still spans two customers: identity resolution stopped before its
-- components were complete; raise var identity_max_rounds.
select match_keys.match_key
from {{ ref('int_customer_match_keys') }} as match_keys
inner join {{ ref('int_customers_resolved') }} as resolved
    on resolved.record_id = match_keys.record_id
group by match_keys.match_key
having count(distinct resolved.customer_id) > 1
