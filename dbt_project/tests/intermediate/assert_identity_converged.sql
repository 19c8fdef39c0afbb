{{ config(meta={'dagster': {'ref': {'name': 'int_customer_components'}}}) }}
-- Fails when a match key still spans two components: identity resolution stopped before its
-- components were complete; raise var identity_max_rounds. (A staff decision "different
-- people" may split a component afterwards; that is not a failure.)
select links.match_key
from {{ ref('int_customer_links') }} as links
inner join {{ ref('int_customer_components') }} as components
    on components.record_id = links.record_id
group by links.match_key
having count(distinct components.component_rank) > 1
