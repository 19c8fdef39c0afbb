{#- Casting raw text. Raw rows have passed the loader's field checks, so these casts cannot fail
    on loaded data; each is dispatched where DuckDB and PostgreSQL differ. -#}

{% macro clean_text(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}

{#- An integer as delivered ("1,234", "-2"); empty is null. -#}
{% macro parse_int(column) -%}
    cast(nullif(replace(trim({{ column }}), ',', ''), '') as bigint)
{%- endmacro %}

{#- A money amount as delivered ("1,234,000", "29900", "2.95", "-15000") in the configured
    currency (var currency_code): two decimals hold won and any currency with cents. -#}
{% macro parse_amount(column) -%}
    cast(nullif(replace(trim({{ column }}), ',', ''), '') as {{ amount_type() }})
{%- endmacro %}

{#- The type of every money column: exact decimal, 18 digits, 2 after the point. -#}
{% macro amount_type() -%}decimal(18, 2){%- endmacro %}

{#- A computed money value as the marts show it: rounded to the currency's decimals
    (var currency_decimals: 0 for won, 2 for euro or pound). -#}
{% macro money(expression) -%}
    cast(round(cast({{ expression }} as {{ amount_type() }}), {{ var('currency_decimals') }})
        as {{ amount_type() }})
{%- endmacro %}

{% macro parse_date(column) -%}
    {{ return(adapter.dispatch('parse_date', 'gogaek')(column)) }}
{%- endmacro %}

{#- Dates as sources write them: 2026-11-19, 20261119, 2026.11.19, and as Korean Excel and
    Google Sheets show a date cell when it is saved as CSV: 2026. 11. 19. (spaces after the dots,
    a closing dot). -#}
{% macro default__parse_date(column) -%}
    case
        when {{ regex_match(column, '^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}$') }} then to_date(trim({{ column }}), 'YYYY-MM-DD')
        when {{ regex_match(column, '^[0-9]{8}$') }} then to_date(trim({{ column }}), 'YYYYMMDD')
        when {{ regex_match(column, '^[0-9]{4}[.] ?[0-9]{1,2}[.] ?[0-9]{1,2}[.]?$') }}
            then to_date({{ dotted_date(column) }}, 'YYYY.MM.DD')
    end
{%- endmacro %}

{% macro duckdb__parse_date(column) -%}
    cast(try_strptime({{ dotted_date(column) }}, ['%Y-%m-%d', '%Y%m%d', '%Y.%m.%d']) as date)
{%- endmacro %}

{#- '2026. 11. 19.' as '2026.11.19'; any other value as it is, trimmed. -#}
{% macro dotted_date(column) -%}
    rtrim(regexp_replace(trim({{ column }}), '^([0-9]{4})[.] ?([0-9]{1,2})[.] ?([0-9]{1,2})[.]?$', '\1.\2.\3'), '.')
{%- endmacro %}

{#- An offset after the time: Z, +09:00, +0900, or hours only (+00, as PostgreSQL writes
    timestamptz as text). It must follow the seconds or minutes, so a date alone ('2026-11-18')
    is not read as a date with offset -18. -#}
{% macro utc_offset_pattern() -%}
    :[0-9]{2}([.][0-9]+)?([+-][0-9]{2}(:?[0-9]{2})?|Z)$
{%- endmacro %}

{#- Timestamps become Korean local time without zone: ERP and shop values carry no offset and are
    local already; ISO values with an offset (call center, ESP) are converted to Asia/Seoul.
    The loaders render the DuckDB form with cast_with='try_cast' (ingest/dbt_macros.py): a value
    that gives null there is quarantined, so staging's cast never meets it. -#}
{% macro parse_timestamp(column, cast_with='cast') -%}
    {{ return(adapter.dispatch('parse_timestamp', 'gogaek')(column, cast_with)) }}
{%- endmacro %}

{% macro default__parse_timestamp(column, cast_with='cast') -%}
    case
        when {{ regex_match(column, utc_offset_pattern()) }}
            then ({{ cast_with }}(trim({{ column }}) as timestamptz) at time zone 'Asia/Seoul')
        when {{ regex_match(column, korean_clock_pattern()) }}
            then to_timestamp({{ korean_clock(column) }},
                case when {{ regex_match(column, '[0-9]:[0-9]{2}:[0-9]{2}$') }}
                    then 'YYYY-MM-DD AM HH12:MI:SS' else 'YYYY-MM-DD AM HH12:MI' end)::timestamp
        else {{ cast_with }}(trim({{ column }}) as timestamp)
    end
{%- endmacro %}

{% macro duckdb__parse_timestamp(column, cast_with='cast') -%}
    case
        when {{ regex_match(column, utc_offset_pattern()) }}
            then timezone('Asia/Seoul', {{ cast_with }}(trim({{ column }}) as timestamptz))
        when {{ regex_match(column, korean_clock_pattern()) }}
            then {{ 'try_strptime' if cast_with == 'try_cast' else 'strptime' }}(
                {{ korean_clock(column) }}, ['%Y-%m-%d %p %I:%M:%S', '%Y-%m-%d %p %I:%M'])
        else {{ cast_with }}(trim({{ column }}) as timestamp)
    end
{%- endmacro %}

{#- A timestamp as Korean Excel writes a date-time cell into a CSV: '2026-11-20 오후 3:15:00'
    (오전 before noon, 오후 after; a 12-hour clock, seconds optional), the date also dotted
    ('2026. 11. 20. 오후 3:15'). -#}
{% macro korean_clock_pattern() -%}
    ^[0-9]{4}([.] ?|-)[0-9]{1,2}([.] ?|-)[0-9]{1,2}[.]? (오전|오후) [0-9]{1,2}:[0-9]{2}(:[0-9]{2})?$
{%- endmacro %}

{#- Such a value as '2026-11-20 PM 3:15:00', for a 12-hour clock format. -#}
{% macro korean_clock(column) -%}
    replace(replace(regexp_replace(trim({{ column }}),
        '^([0-9]{4})(?:[.] ?|-)([0-9]{1,2})(?:[.] ?|-)([0-9]{1,2})[.]? ', '\1-\2-\3 '),
        '오전', 'AM'), '오후', 'PM')
{%- endmacro %}

{% macro regex_match(column, pattern) -%}
    {{ return(adapter.dispatch('regex_match', 'gogaek')(column, pattern)) }}
{%- endmacro %}

{% macro default__regex_match(column, pattern) -%}
    (trim({{ column }}) ~ '{{ pattern }}')
{%- endmacro %}

{#- A search, like PostgreSQL's `~`: anchor with ^ and $ to match the whole value. -#}
{% macro duckdb__regex_match(column, pattern) -%}
    regexp_matches(trim({{ column }}), '{{ pattern }}')
{%- endmacro %}

{#- The digits of a value, full-width digits (typed with a Korean IME in full-width mode) read as
    the ASCII digits they are, as the personal-data rules read an RRN. -#}
{% macro digits_only(column) -%}
    regexp_replace(translate({{ column }}, '０１２３４５６７８９', '0123456789'), '[^0-9]', '', 'g')
{%- endmacro %}

{#- The later of two timestamps, ignoring nulls. -#}
{% macro greatest_ts(first, second) -%}
    case when {{ second }} is null or {{ first }} >= {{ second }} then {{ first }} else {{ second }} end
{%- endmacro %}

{#- Hours from `start` to `finish` as a decimal number (null when either is null). -#}
{% macro hours_between(start, finish) -%}
    {{ return(adapter.dispatch('hours_between', 'gogaek')(start, finish)) }}
{%- endmacro %}

{% macro default__hours_between(start, finish) -%}
    round(cast(extract(epoch from ({{ finish }} - {{ start }})) / 3600.0 as numeric), 2)
{%- endmacro %}

{% macro duckdb__hours_between(start, finish) -%}
    round(cast(date_diff('second', {{ start }}, {{ finish }}) / 3600.0 as numeric), 2)
{%- endmacro %}

{#- Call-center category as delivered (문의/불만/반품/해지) to its English code. -#}
{% macro call_category(column) -%}
    case trim({{ column }})
        when '문의' then 'inquiry'
        when '불만' then 'complaint'
        when '반품' then 'return'
        when '해지' then 'cancellation'
        else 'other'
    end
{%- endmacro %}

{#- 100 × numerator / denominator rounded to 2 decimals, as a float (null when dividing by 0). -#}
{% macro percent(numerator, denominator) -%}
    cast(round(cast(100.0 * {{ numerator }} / nullif({{ denominator }}, 0) as numeric), 2)
        as {{ type_double() }})
{%- endmacro %}

{#- An 8-byte float type (type_double() is 4-byte REAL on DuckDB). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'gogaek')()) }}
{%- endmacro %}

{% macro default__type_double() -%}double precision{%- endmacro %}

{% macro duckdb__type_double() -%}double{%- endmacro %}

{#- A float rounded to `digits` decimals, as a float. (DuckDB's bare `numeric` is
    DECIMAL(18,3), so casting through it would cut to 3 decimals; PostgreSQL has no
    round(double precision, int).) -#}
{% macro round_double(expression, digits) -%}
    {{ return(adapter.dispatch('round_double', 'gogaek')(expression, digits)) }}
{%- endmacro %}

{% macro default__round_double(expression, digits) -%}
    cast(round(cast({{ expression }} as numeric), {{ digits }}) as double precision)
{%- endmacro %}

{% macro duckdb__round_double(expression, digits) -%}
    round(cast({{ expression }} as double), {{ digits }})
{%- endmacro %}
