with products as (
    select * from {{ ref('stg_erp__products') }}
),

erp_lines as (
    select * from {{ ref('stg_erp__order_lines') }}
),

shop_items as (
    select * from {{ ref('stg_shop__order_items') }}
),

code_patterns as (
    select * from {{ ref('product_code_patterns') }}
),

item_types as (
    select * from {{ ref('item_types') }}
),

codes as (
    select product_code from products
    union
    select product_code from erp_lines
    where product_code is not null
    union
    select product_code from shop_items
    where product_code is not null
),

pattern_matches as (
    select
        codes.product_code,
        item_types.line_type,
        row_number() over (
            partition by codes.product_code
            order by length(code_patterns.code_pattern) desc, code_patterns.code_pattern
        ) as match_rank
    from codes
    inner join code_patterns on codes.product_code like code_patterns.code_pattern
    inner join item_types on item_types.item_type = code_patterns.item_type
)

select
    codes.product_code,
    coalesce(products.line_type, pattern_matches.line_type, 'merchandise') as line_type,
    case
        when products.product_code is not null then 'product_master'
        when pattern_matches.product_code is not null then 'code_pattern'
        else 'default'
    end as line_type_rule
from codes
left join products on products.product_code = codes.product_code
left join pattern_matches
    on pattern_matches.product_code = codes.product_code
        and pattern_matches.match_rank = 1
