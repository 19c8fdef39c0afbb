{%- set tenure = var('ltv_tenure_years') -%}
{%- set rate = var('ltv_discount_rate') -%}
with summary as (
    select * from {{ ref('int_customer_purchase_summary') }}
),

predictions as (
    select * from {{ source('ml', 'clv_predictions') }}
),

reliability as (
    select * from {{ source('ml', 'clv_reliability') }}
),

annualised as (
    select
        summary.*,
        greatest((summary.as_of_date - summary.first_purchase_date) / 365.25, 1.0)
            as years_observed,
        case
            when summary.revenue_to_date > 0
                then summary.gross_margin_to_date / summary.revenue_to_date
            else {{ var('default_margin_rate') }}
        end as margin_rate_to_date
    from summary
)

select
    annualised.customer_id,
    annualised.as_of_date,
    annualised.first_purchase_date,
    annualised.last_purchase_date,
    annualised.orders,
    annualised.purchase_days,
    annualised.revenue_to_date,
    {{ money('annualised.gross_margin_to_date') }}
        as gross_margin_to_date,
    {{ round_double('annualised.margin_rate_to_date', 4) }} as margin_rate,
    {{ round_double('annualised.years_observed', 2) }} as years_observed,
    {{ money('annualised.revenue_to_date / annualised.years_observed') }} as avg_annual_revenue,
    {{ tenure }} as expected_tenure_years,
    {{ money('annualised.revenue_to_date / annualised.years_observed * annualised.margin_rate_to_date * ' ~ tenure) }}
        as formula_ltv,
    {{ money('annualised.revenue_to_date / annualised.years_observed * annualised.margin_rate_to_date * (1 - power(1 + ' ~ rate ~ ', -' ~ tenure ~ ')) / ' ~ rate) }}
        as formula_ltv_npv,
    {{ round_double('predictions.p_alive', 4) }} as p_alive,
    {{ round_double('predictions.expected_purchases_12m', 3) }} as expected_purchases_12m,
    {{ money('predictions.expected_order_value') }}
        as expected_order_value,
    {{ money('predictions.predicted_revenue_12m') }}
        as predicted_revenue_12m,
    {{ money('predictions.predicted_clv_12m') }}
        as predicted_clv_12m,
    coalesce(reliability.is_reliable, false) as clv_is_reliable
from annualised
left join predictions on predictions.customer_id = annualised.customer_id
left join reliability on true
