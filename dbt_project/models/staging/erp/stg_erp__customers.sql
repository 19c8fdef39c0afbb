with source as (
    select * from {{ source('erp', 'erp_customers') }}
),

latest as (
    {{ deduplicate('source', ['trim("고객번호")'], first_loaded_at=true,
        order_by=parse_timestamp('"수정일시"') ~ ' desc, _loaded_at desc, _source_file desc, _source_line desc') }}
),

normalised as {{ computed_once() }} (
    select
        *,
        {{ phone_national('"휴대폰"') }} as mobile_digits,
        {{ phone_national('"자택전화"') }} as home_phone_digits,
        {{ phone_national('"직장전화"') }} as work_phone_digits,
        {{ phone_national('"팩스"') }} as fax_digits,
        {{ email_domain_fix('"이메일"') }} as email_domain_fix
    from latest
),

judged as {{ computed_once() }} (
    select
        *,
        {{ phone_verdict('"휴대폰"', 'mobile_digits', expected_kind='mobile') }} as mobile_verdict,
        {{ phone_verdict('"자택전화"', 'home_phone_digits') }} as home_phone_verdict,
        {{ phone_verdict('"직장전화"', 'work_phone_digits') }} as work_phone_verdict,
        {{ phone_verdict('"팩스"', 'fax_digits') }} as fax_verdict,
        {{ email_verdict('"이메일"', 'email_domain_fix') }} as email_verdict,
        {{ postal_code_verdict('"우편번호"') }} as postal_code_verdict
    from normalised
)

select
    trim("고객번호") as erp_customer_no,
    {{ name_columns('"고객명"', 'customer_name') }},
    {{ clean_text('"주민등록번호_해시"') }} as rrn_hash,
    {{ clean_text('"휴대폰"') }} as mobile_raw,
    {{ phone_columns('mobile') }},
    {{ clean_text('"자택전화"') }} as home_phone_raw,
    {{ phone_columns('home_phone') }},
    {{ clean_text('"직장전화"') }} as work_phone_raw,
    {{ phone_columns('work_phone') }},
    {{ clean_text('"팩스"') }} as fax_raw,
    {{ phone_columns('fax') }},
    {{ clean_text('"이메일"') }} as email_raw,
    {{ email_columns('"이메일"', 'email') }},
    {{ clean_text('"우편번호"') }} as postal_code_raw,
    {{ postal_code_columns('"우편번호"', 'postal_code') }},
    {{ clean_text('"주소"') }} as address,
    {{ clean_text('"상세주소"') }} as address_detail,
    case when {{ clean_text('"주소"') }} is null then 'missing' else 'valid' end as address_status,
    {{ clean_text('"고객등급"') }} as customer_grade,
    {{ parse_date('"생년월일"') }} as birth_date,
    {{ parse_date('"가입일"') }} as registered_on,
    {{ parse_timestamp('"수정일시"') }} as updated_at,
    first_loaded_at,
    _source_file,
    _batch_id,
    _loaded_at
from judged
