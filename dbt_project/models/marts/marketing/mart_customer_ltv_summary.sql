{%- set tenure = var('ltv_tenure_years') -%}
{%- set rate = var('ltv_discount_rate') -%}
with customers as (
    select * from {{ ref('mart_customer_ltv') }}
),

fit as (
    select * from {{ source('ml', 'clv_model_fit') }}
),

reliability as (
    select * from {{ source('ml', 'clv_reliability') }}
),

base as (
    select
        max(as_of_date) as as_of_date,
        count(*) as customers,
        sum(avg_annual_revenue) as total_annual_revenue,
        sum(gross_margin_to_date) as gross_margin_to_date,
        sum(revenue_to_date) as revenue_to_date,
        sum(predicted_revenue_12m) as predicted_revenue_12m,
        sum(predicted_clv_12m) as predicted_clv_12m,
        avg(p_alive) as mean_p_alive
    from customers
),

parameters as (
    select
        max(case when model = 'bg_nbd' and parameter = 'r' then value end) as bgnbd_r,
        max(case when model = 'bg_nbd' and parameter = 'alpha' then value end) as bgnbd_alpha,
        max(case when model = 'bg_nbd' and parameter = 'a' then value end) as bgnbd_a,
        max(case when model = 'bg_nbd' and parameter = 'b' then value end) as bgnbd_b,
        max(case when model = 'bg_nbd' then log_likelihood end) as bgnbd_log_likelihood,
        max(case when model = 'gamma_gamma' and parameter = 'p' then value end) as gg_p,
        max(case when model = 'gamma_gamma' and parameter = 'q' then value end) as gg_q,
        max(case when model = 'gamma_gamma' and parameter = 'gamma' then value end) as gg_gamma
    from fit
),

seed_formula as (
    select
        base.*,
        cast(base.total_annual_revenue as {{ type_double() }}) / base.customers
            as avg_annual_revenue,
        cast(base.gross_margin_to_date as {{ type_double() }})
        / nullif(base.revenue_to_date, 0) as margin_rate
    from base
)

select
    seed_formula.as_of_date,
    seed_formula.customers,
    {{ money('seed_formula.avg_annual_revenue') }}
        as avg_annual_revenue,
    {{ round_double('seed_formula.margin_rate', 4) }} as margin_rate,
    {{ tenure }} as expected_tenure_years,
    {{ money('seed_formula.customers * seed_formula.avg_annual_revenue * seed_formula.margin_rate * ' ~ tenure) }} as formula_ltv_total,
    {{ money('seed_formula.avg_annual_revenue * seed_formula.margin_rate * ' ~ tenure ~ '') }} as formula_ltv_per_customer,
    {{ money('seed_formula.customers * seed_formula.avg_annual_revenue * seed_formula.margin_rate * (1 - power(1 + ' ~ rate ~ ', -' ~ tenure ~ ')) / ' ~ rate ~ '') }} as formula_ltv_npv_total,
    {{ money('seed_formula.predicted_revenue_12m') }} as predicted_revenue_12m,
    {{ money('seed_formula.predicted_clv_12m') }} as predicted_clv_12m,
    {{ round_double('seed_formula.mean_p_alive', 4) }} as mean_p_alive,
    {{ round_double('parameters.bgnbd_r', 4) }} as bgnbd_r,
    {{ round_double('parameters.bgnbd_alpha', 4) }} as bgnbd_alpha,
    {{ round_double('parameters.bgnbd_a', 4) }} as bgnbd_a,
    {{ round_double('parameters.bgnbd_b', 4) }} as bgnbd_b,
    {{ round_double('parameters.bgnbd_log_likelihood', 1) }} as bgnbd_log_likelihood,
    {{ round_double('parameters.gg_p', 4) }} as gamma_gamma_p,
    {{ round_double('parameters.gg_q', 4) }} as gamma_gamma_q,
    {{ round_double('parameters.gg_gamma', 2) }} as gamma_gamma_gamma,
    coalesce(reliability.is_reliable, false) as clv_is_reliable,
    reliability.reason as clv_reliability_reason,
    {{ round_double('reliability.backtest_error_pct', 2) }} as clv_backtest_error_pct,
    {{ round_double('reliability.lowest_p_alive', 4) }} as lowest_p_alive
from seed_formula
cross join parameters
left join reliability on true
