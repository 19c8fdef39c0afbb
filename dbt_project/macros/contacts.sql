{#- Contact standardisation shared by every staging model that holds contacts.
    Each contact becomes a canonical value plus a status (valid / invalid / missing) and a reason,
    so marts can count completeness and validity per channel and targeting can skip bad values. -#}

{#- National significant digits of a Korean phone number: +82 / 82 prefixes become a leading 0. -#}
{% macro phone_national(column) -%}
    case
        when {{ clean_text(column) }} is null then null
        when trim({{ column }}) like '+82%' or ({{ digits_only(column) }} like '82%'
             and length({{ digits_only(column) }}) in (11, 12))
            then '0' || ltrim(substr({{ digits_only(column) }}, 3), '0')
        -- A spreadsheet round trip drops the leading zero: 1012345678 was 01012345678.
        when {{ digits_only(column) }} like '1%' and length({{ digits_only(column) }}) in (9, 10)
             and substr({{ digits_only(column) }}, 1, 2) in ('10', '11', '16', '17', '18', '19')
            then '0' || {{ digits_only(column) }}
        else {{ digits_only(column) }}
    end
{%- endmacro %}

{#- Columns <prefix>_e164, _display, _kind, _status, _invalid_reason from national digits.
    Legacy 011/016/017/018/019 mobiles are recognised but invalid: their service ended 2021-2023. -#}
{% macro phone_columns(digits, prefix) -%}
    case when {{ phone_status_reason(digits) }} is null
        then '+82' || case when {{ digits }} like '0%' then substr({{ digits }}, 2)
                           else {{ digits }} end
    end as {{ prefix }}_e164,
    case when {{ phone_status_reason(digits) }} is null then {{ phone_display(digits) }} end
        as {{ prefix }}_display,
    {{ phone_kind(digits) }} as {{ prefix }}_kind,
    case
        when {{ digits }} is null or {{ digits }} = '' then 'missing'
        when {{ phone_status_reason(digits) }} is null then 'valid'
        else 'invalid'
    end as {{ prefix }}_status,
    {{ phone_status_reason(digits) }} as {{ prefix }}_invalid_reason
{%- endmacro %}

{% macro phone_kind(digits) -%}
    case
        when {{ regex_match(digits, '^010[0-9]{8}$') }} then 'mobile'
        when {{ regex_match(digits, '^01[16789][0-9]{7,8}$') }} then 'legacy_mobile'
        when {{ regex_match(digits, '^02[0-9]{7,8}$') }} then 'landline'
        when {{ regex_match(digits, '^0[3-6][1-5][0-9]{7,8}$') }} then 'landline'
        when {{ regex_match(digits, '^070[0-9]{8}$') }} then 'voip'
        when {{ regex_match(digits, '^1[568][0-9]{6}$') }} then 'representative'
    end
{%- endmacro %}

{#- Null when the number is valid; otherwise why not. -#}
{% macro phone_status_reason(digits) -%}
    case
        when {{ digits }} is null or {{ digits }} = '' then 'missing'
        when {{ regex_match(digits, '^01[16789][0-9]{7,8}$') }} then 'legacy_prefix'
        when {{ regex_match(digits, '^010[0-9]{8}$') }}
             and ({{ regex_match(digits, '^010(0{8}|1{8}|2{8}|3{8}|4{8}|5{8}|6{8}|7{8}|8{8}|9{8})$') }}
                  or substr({{ digits }}, 4) in ('12345678', '12341234', '00001111')
                  {#- a 0000 middle block is typed to pass a mandatory field (quality/contacts.py) #}
                  or substr({{ digits }}, 4, 4) = '0000')
            then 'dummy_number'
        when {{ regex_match(digits, '^010[0-9]{8}$') }} then null
        when {{ regex_match(digits, '^02[0-9]{7,8}$') }} then null
        when {{ regex_match(digits, '^0[3-6][1-5][0-9]{7,8}$') }} then null
        when {{ regex_match(digits, '^070[0-9]{8}$') }} then null
        when {{ regex_match(digits, '^1[568][0-9]{6}$') }} then null
        when length({{ digits }}) < 9 then 'too_short'
        when length({{ digits }}) > 11 then 'too_long'
        when {{ digits }} like '010%' then 'too_short'
        else 'unknown_prefix'
    end
{%- endmacro %}

{% macro phone_display(digits) -%}
    case
        when length({{ digits }}) = 8 then substr({{ digits }}, 1, 4) || '-' || substr({{ digits }}, 5)
        when {{ digits }} like '02%' and length({{ digits }}) = 9
            then '02-' || substr({{ digits }}, 3, 3) || '-' || substr({{ digits }}, 6)
        when {{ digits }} like '02%'
            then '02-' || substr({{ digits }}, 3, 4) || '-' || substr({{ digits }}, 7)
        when length({{ digits }}) = 10
            then substr({{ digits }}, 1, 3) || '-' || substr({{ digits }}, 4, 3) || '-' || substr({{ digits }}, 7)
        else substr({{ digits }}, 1, 3) || '-' || substr({{ digits }}, 4, 4) || '-' || substr({{ digits }}, 8)
    end
{%- endmacro %}

{#- Domains people mistype, with the domain they meant. One list for the whole project. -#}
{% macro email_typo_domains() -%}
    {{ return({
        'naver.con': 'naver.com', 'naver.co': 'naver.com', 'navr.com': 'naver.com',
        'naver.cm': 'naver.com', 'nave.com': 'naver.com', 'naaver.com': 'naver.com',
        'gmial.com': 'gmail.com', 'gmail.con': 'gmail.com', 'gmai.com': 'gmail.com',
        'gamil.com': 'gmail.com', 'gmail.co': 'gmail.com',
        'hanmial.net': 'hanmail.net', 'hanmail.ent': 'hanmail.net', 'hanmail.com': 'hanmail.net',
        'hamail.net': 'hanmail.net',
        'daum.ent': 'daum.net', 'daum.com': 'daum.net', 'duam.net': 'daum.net',
        'nate.con': 'nate.com', 'kakao.con': 'kakao.com'
    }) }}
{%- endmacro %}

{#- Columns <prefix> (trimmed, lower-case), _domain, _status, _invalid_reason, _suggested. -#}
{% macro email_columns(column, prefix) -%}
    {%- set email = "lower(trim(" ~ column ~ "))" -%}
    {%- set domain = "split_part(" ~ email ~ ", '@', 2)" -%}
    {%- set typos = email_typo_domains() -%}
    nullif({{ email }}, '') as {{ prefix }},
    nullif({{ domain }}, '') as {{ prefix }}_domain,
    case
        when {{ clean_text(column) }} is null then 'missing'
        when {{ email_reason(column) }} is null then 'valid'
        else 'invalid'
    end as {{ prefix }}_status,
    {{ email_reason(column) }} as {{ prefix }}_invalid_reason,
    case {{ domain }}
        {%- for typo, fix in typos.items() %}
        when '{{ typo }}' then split_part({{ email }}, '@', 1) || '@{{ fix }}'
        {%- endfor %}
    end as {{ prefix }}_suggested
{%- endmacro %}

{% macro email_reason(column) -%}
    {%- set email = "lower(trim(" ~ column ~ "))" -%}
    case
        when {{ clean_text(column) }} is null then 'missing'
        when {{ email }} not like '%@%' then 'no_at_sign'
        when not {{ regex_match(email, '^[a-z0-9._%+-]+@[a-z0-9-]+([.][a-z0-9-]+)*[.][a-z]{2,}$') }}
            then 'bad_format'
        when split_part({{ email }}, '@', 2) in (
            {%- for typo in email_typo_domains() %}'{{ typo }}'{{ ", " if not loop.last }}{% endfor -%}
        ) then 'typo_domain'
    end
{%- endmacro %}

{#- Columns <prefix> (5 digits, or the 6 legacy digits) and <prefix>_status:
    valid / legacy_6_digit / invalid / missing. -#}
{% macro postal_code_columns(column, prefix) -%}
    case when length({{ digits_only(column) }}) in (5, 6) then {{ digits_only(column) }} end
        as {{ prefix }},
    case
        when {{ clean_text(column) }} is null then 'missing'
        when {{ regex_match(column, '^[0-9]{5}$') }} then 'valid'
        when {{ regex_match(column, '^[0-9]{3}-?[0-9]{3}$') }} then 'legacy_6_digit'
        else 'invalid'
    end as {{ prefix }}_status
{%- endmacro %}

{#- Name as shown (trimmed, inner spaces collapsed) and as matched (no spaces, lower-case). -#}
{% macro name_columns(column, prefix) -%}
    nullif(regexp_replace(trim({{ column }}), '\s+', ' ', 'g'), '') as {{ prefix }},
    nullif(lower(regexp_replace({{ column }}, '\s', '', 'g')), '') as {{ prefix }}_match_key
{%- endmacro %}
