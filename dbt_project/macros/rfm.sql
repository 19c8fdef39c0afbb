{#- Scoring shared by the customer-scoring marts. -#}

{#- The scoring date as a scalar subquery: one owner, model int_scoring_date. -#}
{% macro scoring_as_of_date() -%}
    (select as_of_date from {{ ref('int_scoring_date') }})
{%- endmacro %}

{#- Score 1..`buckets` of `measure` among the rows of `partition_by` (a column list, or none
    for all rows): 1 + floor(buckets × share of rows strictly below). Ties share a score; the
    lowest value always scores 1, however many share it (a third of customers buying once all
    get F = 1); the highest scores `buckets` unless more than 1/buckets of rows share it.
    rank() − 1 counts the rows strictly below (strictly less recent for recency, where
    `descending` orders the measure). Exact: 5 × below and n are small integers. -#}
{% macro score_by_share(measure, buckets, partition_by=none, descending=false) -%}
    cast(1 + floor(
        {{ buckets }}.0 * (rank() over ({% if partition_by %}partition by {{ partition_by }} {% endif -%}
            order by {{ measure }}{{ ' desc' if descending }}) - 1)
        / count(*) over ({% if partition_by %}partition by {{ partition_by }}{% endif %})
    ) as integer)
{%- endmacro %}

{#- CTEs scoring every customer with a purchase in the window ending on each as_of_date of
    `as_of_dates` (a relation or CTE with one column as_of_date), from `purchases`
    (fct_purchases: one row per customer and day). The last CTE, rfm_segmented, holds one row
    per (as_of_date, customer_id): recency (days since the last purchase), frequency
    (purchases = purchase days), monetary (merchandise value net of returns), R/F/M 1-5 by
    score_by_share among the customers scored on the same date, and the segment of the seed
    rfm_segments. -#}
{% macro rfm_scoring_ctes(purchases, as_of_dates) -%}
rfm_per_customer as (
    select
        {{ as_of_dates }}.as_of_date,
        {{ purchases }}.customer_id,
        max(case when {{ purchases }}.is_purchase then {{ purchases }}.purchase_date end)
            as last_purchase_date,
        sum(case when {{ purchases }}.is_purchase then 1 else 0 end) as frequency,
        sum({{ purchases }}.merchandise_value) as monetary
    from {{ purchases }}
    inner join {{ as_of_dates }}
        on {{ purchases }}.purchase_date <= {{ as_of_dates }}.as_of_date
        and {{ purchases }}.purchase_date
            > {{ as_of_dates }}.as_of_date - {{ var('rfm_window_days') }}
    group by {{ as_of_dates }}.as_of_date, {{ purchases }}.customer_id
    having sum(case when {{ purchases }}.is_purchase then 1 else 0 end) > 0
),

rfm_scored as (
    select
        as_of_date,
        customer_id,
        last_purchase_date,
        as_of_date - last_purchase_date as recency_days,
        frequency,
        monetary,
        {{ score_by_share('as_of_date - last_purchase_date', 5, 'as_of_date', descending=true) }}
            as r_score,
        {{ score_by_share('frequency', 5, 'as_of_date') }} as f_score,
        {{ score_by_share('monetary', 5, 'as_of_date') }} as m_score
    from rfm_per_customer
),

rfm_segment_candidates as (
    select
        rfm_scored.*,
        segments.segment_code,
        segments.segment_name,
        segments.segment_name_ko,
        row_number() over (
            partition by rfm_scored.as_of_date, rfm_scored.customer_id
            order by segments.priority
        ) as segment_rank
    from rfm_scored
    inner join {{ ref('rfm_segments') }} as segments
        on rfm_scored.r_score between segments.r_score_min and segments.r_score_max
        and rfm_scored.f_score between segments.f_score_min and segments.f_score_max
),

rfm_segmented as (
    select
        as_of_date,
        customer_id,
        last_purchase_date,
        cast(recency_days as integer) as recency_days,
        cast(frequency as bigint) as frequency,
        cast(monetary as {{ amount_type() }}) as monetary,
        r_score,
        f_score,
        m_score,
        segment_code,
        segment_name,
        segment_name_ko
    from rfm_segment_candidates
    where segment_rank = 1
)
{%- endmacro %}
