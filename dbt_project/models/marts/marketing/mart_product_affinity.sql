{%- set z = 1.96 %}
with lines as (
    select * from {{ ref('fct_order_lines') }}
    where document_type = 'order' and line_type = 'merchandise' and net_quantity > 0
        and customer_id is not null
),

purchases as (
    select * from {{ ref('fct_purchases') }}
    where is_purchase
),

baskets as (
    select distinct purchases.purchase_key as order_key, lines.product_code
    from lines
    inner join purchases
        on purchases.customer_id = lines.customer_id
            and purchases.purchase_date = lines.order_date
),

basket_count as (
    select count(distinct order_key) as baskets from baskets
),

product_baskets as (
    select product_code, count(*) as baskets_with_product
    from baskets
    group by product_code
),

pairs as (
    select
        antecedent.product_code,
        consequent.product_code as also_bought_product_code,
        count(*) as baskets_with_both
    from baskets as antecedent
    inner join baskets as consequent
        on consequent.order_key = antecedent.order_key
            and consequent.product_code <> antecedent.product_code
    group by antecedent.product_code, consequent.product_code
    having count(*) >= {{ var('affinity_min_baskets') }}
),

measured as (
    select
        pairs.product_code,
        pairs.also_bought_product_code,
        pairs.baskets_with_both,
        cast(pairs.baskets_with_both as {{ type_double() }}) / basket_count.baskets as support,
        cast(pairs.baskets_with_both as {{ type_double() }}) / antecedent.baskets_with_product
            as confidence,
        (cast(pairs.baskets_with_both as {{ type_double() }}) / antecedent.baskets_with_product)
        / (cast(consequent.baskets_with_product as {{ type_double() }}) / basket_count.baskets)
            as lift
    from pairs
    cross join basket_count
    inner join product_baskets as antecedent on antecedent.product_code = pairs.product_code
    inner join product_baskets as consequent
        on consequent.product_code = pairs.also_bought_product_code
),

bounded as (
    select
        measured.*,
        (
            measured.confidence + {{ z * z }} / (2.0 * antecedent.baskets_with_product)
            - {{ z }} * sqrt(
                measured.confidence * (1 - measured.confidence) / antecedent.baskets_with_product
                + {{ z * z }} / (4.0 * antecedent.baskets_with_product * antecedent.baskets_with_product)
            )
        ) / (1 + {{ z * z }} / antecedent.baskets_with_product)
        / (measured.confidence / measured.lift) as lift_lower_bound
    from measured
    inner join product_baskets as antecedent on antecedent.product_code = measured.product_code
),

ranked as (
    select
        *,
        row_number() over (
            partition by product_code
            order by lift_lower_bound desc, baskets_with_both desc, also_bought_product_code
        ) as affinity_rank
    from bounded
)

select
    product_code,
    also_bought_product_code,
    affinity_rank,
    baskets_with_both,
    {{ round_double('support', 6) }} as support,
    {{ round_double('confidence', 4) }} as confidence,
    {{ round_double('lift', 4) }} as lift,
    {{ round_double('lift_lower_bound', 4) }} as lift_lower_bound
from ranked
where affinity_rank <= 10
