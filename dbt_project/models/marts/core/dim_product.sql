with erp_products as (
    select * from {{ ref('stg_erp__products') }}
),

line_types as (
    select * from {{ ref('int_product_line_types') }}
),

line_only_products as (
    select line_types.product_code, line_types.line_type
    from line_types
    left join erp_products on erp_products.product_code = line_types.product_code
    where erp_products.product_code is null
)

select
    product_code,
    product_name,
    category,
    list_price,
    unit_cost,
    case when list_price > 0 and unit_cost is not null
            then round(cast(list_price - unit_cost as numeric) / list_price, 4)
    end as margin_rate,
    is_active,
    item_type,
    line_type,
    true as in_erp_master
from erp_products

union all

select
    product_code,
    cast(null as {{ dbt.type_string() }}) as product_name,
    cast(null as {{ dbt.type_string() }}) as category,
    cast(null as {{ amount_type() }}) as list_price,
    cast(null as {{ amount_type() }}) as unit_cost,
    cast(null as numeric) as margin_rate,
    true as is_active,
    cast(null as {{ dbt.type_string() }}) as item_type,
    line_type,
    false as in_erp_master
from line_only_products
