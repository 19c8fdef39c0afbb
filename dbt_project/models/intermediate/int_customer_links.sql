with match_keys as (
    select * from {{ ref('int_customer_match_keys') }}
),

same_person_decisions as (
    select * from {{ ref('int_identity_overrides') }}
    where decision = 'same'
),

records as (
    select record_id from {{ ref('int_customer_records_unioned') }}
),

decision_keys as (
    select
        record_id_a as record_id,
        'manual_same:' || record_id_a || '|' || record_id_b as match_key
    from same_person_decisions

    union all

    select
        record_id_b as record_id,
        'manual_same:' || record_id_a || '|' || record_id_b as match_key
    from same_person_decisions
)

select
    record_id,
    match_rule,
    match_key
from match_keys

union all

select
    decision_keys.record_id,
    'manual_same' as match_rule,
    decision_keys.match_key
from decision_keys
inner join records on records.record_id = decision_keys.record_id
