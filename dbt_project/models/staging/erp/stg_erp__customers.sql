-- One row per ERP customer number: the latest version across daily master snapshots.
with source as (
    select * from {{ source('erp', 'erp_customers') }}
),

latest as (
    {{ deduplicate('source', ['trim("고객번호")'], first_loaded_at=true,
        order_by=parse_timestamp('"수정일시"') ~ ' desc, _loaded_at desc, _source_file desc, _source_line desc') }}
),

normalised as (
    select
        *,
        {{ phone_national('"휴대폰"') }} as mobile_digits,
        {{ phone_national('"자택전화"') }} as home_phone_digits,
        {{ phone_national('"직장전화"') }} as work_phone_digits,
        {{ phone_national('"팩스"') }} as fax_digits
    from latest
)

select
    trim("고객번호") as erp_customer_no,
    {{ name_columns('"고객명"', 'customer_name') }},
    {{ clean_text('"주민등록번호_해시"') }} as rrn_hash,
    {{ clean_text('"휴대폰"') }} as mobile_raw,
    {{ phone_columns('mobile_digits', 'mobile') }},
    {{ phone_columns('home_phone_digits', 'home_phone') }},
    {{ phone_columns('work_phone_digits', 'work_phone') }},
    {{ phone_columns('fax_digits', 'fax') }},
    {{ email_columns('"이메일"', 'email') }},
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
from normalised
