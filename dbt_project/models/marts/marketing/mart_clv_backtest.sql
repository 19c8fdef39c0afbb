with backtest as (
    select * from {{ source('ml', 'clv_backtest') }}
)

select
    cast(frequency_group as integer) as frequency_group,
    label as frequency_label,
    cast(customers as bigint) as customers,
    {{ round_double('actual_purchases', 1) }} as actual_purchases,
    {{ round_double('predicted_purchases', 1) }} as predicted_purchases,
    {{ round_double('actual_mean', 4) }} as actual_purchases_per_customer,
    {{ round_double('predicted_mean', 4) }} as predicted_purchases_per_customer,
    {{ round_double('100.0 * (predicted_purchases - actual_purchases) / nullif(actual_purchases, 0)', 1) }}
        as error_pct,
    cast(calibration_end as date) + 1 as holdout_start_date,
    cast(holdout_end as date) as holdout_end_date,
    {{ round_double('holdout_weeks', 2) }} as holdout_weeks,
    cast(as_of_date as date) as as_of_date
from backtest
