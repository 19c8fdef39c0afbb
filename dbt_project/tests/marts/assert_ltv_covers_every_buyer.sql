{{ config(meta={'dagster': {'ref': {'name': 'mart_customer_ltv'}}}) }}
-- Every customer with a purchase to date has a prediction from the CLV fit and a churn band:
-- the Python fit and the value marts saw the same customers.
select summary.customer_id
from {{ ref('int_customer_purchase_summary') }} as summary
left join {{ ref('mart_customer_ltv') }} as ltv on ltv.customer_id = summary.customer_id
left join {{ ref('mart_churn_risk') }} as churn on churn.customer_id = summary.customer_id
where ltv.p_alive is null or churn.risk_band is null
