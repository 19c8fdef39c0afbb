{#- The next date on or after `as_of` that falls on the month and day of `event_date`.
    29 February becomes 28 February in years without it. -#}
{% macro next_anniversary(event_date, as_of) -%}
    case
        when {{ anniversary_in_year(event_date, 'cast(extract(year from ' ~ as_of ~ ') as integer)') }} >= {{ as_of }}
            then {{ anniversary_in_year(event_date, 'cast(extract(year from ' ~ as_of ~ ') as integer)') }}
        else {{ anniversary_in_year(event_date, 'cast(extract(year from ' ~ as_of ~ ') as integer) + 1') }}
    end
{%- endmacro %}

{% macro anniversary_in_year(event_date, year) -%}
    make_date(
        {{ year }},
        cast(extract(month from {{ event_date }}) as integer),
        case
            when extract(month from {{ event_date }}) = 2 and extract(day from {{ event_date }}) = 29
                and not (mod({{ year }}, 4) = 0 and (mod({{ year }}, 100) <> 0 or mod({{ year }}, 400) = 0))
                then 28
            else cast(extract(day from {{ event_date }}) as integer)
        end
    )
{%- endmacro %}
