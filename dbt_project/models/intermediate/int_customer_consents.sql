with crosswalk as (
    select * from {{ ref('int_identity_crosswalk') }}
),

consents as (
    select * from {{ ref('stg_shop__marketing_consents') }}
),

member_consents as (
    select
        crosswalk.customer_id,
        consents.consent_channel,
        -- One refusal anywhere is a refusal (수취거절 must never be contacted).
        min(case when consents.is_consented then 1 else 0 end) as all_consented
    from consents
    inner join crosswalk
        on crosswalk.source = 'shop_member'
            and crosswalk.source_key = cast(consents.shop_member_id as {{ dbt.type_string() }})
    group by crosswalk.customer_id, consents.consent_channel
)

select
    customer_id,
    consent_channel,
    case all_consented when 1 then 'consented' else 'refused' end as consent
from member_consents
