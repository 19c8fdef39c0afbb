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

banded as (
    select
        valued.*,
    {%- for measure in ['current', 'future'] %}
    case {{ score_by_share(measure ~ '_value', 3) }}
        when 1 then 'low'
        when 2 then 'mid'
        else 'high'
        end as {{ measure }}_value_band{{ "," if not loop.last }}  -- noqa: LT02
    {%- endfor %}
    from valued
)

select
    banded.customer_id,
    banded.as_of_date,
    {{ money('banded.current_value') }} as current_value_12m_margin,
    {{ money('banded.future_value') }} as future_value_12m_clv,
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
