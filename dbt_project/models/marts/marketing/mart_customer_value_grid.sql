-- One row per customer with a purchase up to the scoring date: seed 004's customer value grid.
-- Current value = gross margin of the trailing 12 months; future value = predicted 12-month
-- CLV (BG/NBD + Gamma-Gamma). Each is banded low/mid/high by tercile of the customers (band =
-- ceil(3 × share of customers at or below the value), ties share a band), and the pair names a
-- cell and its strategy from the seed value_grid_cells.
with summary as (
    select * from {{ ref('int_customer_purchase_summary') }}
),

predictions as (
    select * from {{ source('ml', 'clv_predictions') }}
),

cells as (
    select * from {{ ref('value_grid_cells') }}
),

valued as (
    select
        summary.customer_id,
        summary.as_of_date,
        cast(summary.gross_margin_12m as {{ type_double() }}) as current_value,
        cast(coalesce(predictions.predicted_clv_12m, 0) as {{ type_double() }}) as future_value
    from summary
    left join predictions on predictions.customer_id = summary.customer_id
),

ranked as (
    select
        valued.*,
        count(*) over (order by current_value) as current_at_or_below,
        count(*) over (order by future_value) as future_at_or_below,
        count(*) over () as customers_valued
    from valued
),

banded as (
    select
        ranked.*,
        {%- for measure in ['current', 'future'] %}
        case cast(floor((3.0 * {{ measure }}_at_or_below + customers_valued - 1)
                        / customers_valued) as integer)
            when 1 then 'low'
            when 2 then 'mid'
            else 'high'
        end as {{ measure }}_value_band{{ "," if not loop.last }}
        {%- endfor %}
    from ranked
)

select
    banded.customer_id,
    banded.as_of_date,
    cast(round(cast(banded.current_value as numeric), 0) as bigint) as current_value_12m_margin,
    cast(round(cast(banded.future_value as numeric), 0) as bigint) as future_value_12m_clv,
    banded.current_value_band,
    banded.future_value_band,
    cells.cell_code,
    cells.cell_name,
    cells.cell_name_ko,
    cells.strategy,
    cells.strategy_ko
from banded
inner join cells
    on cells.current_value_band = banded.current_value_band
    and cells.future_value_band = banded.future_value_band
