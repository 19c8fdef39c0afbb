{{ config(meta={'dagster': {'ref': {'name': 'mart_customer_ltv'}}}) }}
-- Every customer with a purchase to date has a churn band, and a prediction from the CLV fit
-- when there is a fit: the Python fit and the value marts saw the same customers. A history
-- the fit cannot learn from yet (nobody has bought twice) leaves every prediction empty, and
-- the CLV assets say why.
with fitted as (
    select count(*) as parameters from {{ source('ml', 'clv_model_fit') }}
    where model = 'bg_nbd'
)

select summary.customer_id
from {{ ref('int_customer_purchase_summary') }} as summary
left join {{ ref('mart_customer_ltv') }} as ltv on ltv.customer_id = summary.customer_id
left join {{ ref('mart_churn_risk') }} as churn on churn.customer_id = summary.customer_id
cross join fitted
where (ltv.p_alive is null and fitted.parameters > 0) or churn.risk_band is null
