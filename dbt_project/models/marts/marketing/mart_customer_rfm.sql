with purchases as (
    select * from {{ ref('fct_purchases') }}
),

scoring_date as (
    select as_of_date from {{ ref('int_scoring_date') }}
),

offers as (
    select * from {{ ref('rfm_offers') }}
),

{{ rfm_scoring_ctes('purchases', 'scoring_date') }}

select
    rfm_segmented.customer_id,
    rfm_segmented.as_of_date,
    rfm_segmented.last_purchase_date,
    rfm_segmented.recency_days,
    rfm_segmented.frequency,
    rfm_segmented.monetary,
    rfm_segmented.r_score,
    rfm_segmented.f_score,
    rfm_segmented.m_score,
    cast(rfm_segmented.r_score as {{ dbt.type_string() }})
    || cast(rfm_segmented.f_score as {{ dbt.type_string() }})
    || cast(rfm_segmented.m_score as {{ dbt.type_string() }}) as rfm_cell,
    rfm_segmented.segment_code,
    rfm_segmented.segment_name,
    rfm_segmented.segment_name_ko,
    offers.frequency_band,
    offers.discount_pct as offer_discount_pct,
    offers.offer,
    offers.offer_ko
from rfm_segmented
left join offers
    on rfm_segmented.f_score between offers.f_score_min and offers.f_score_max
