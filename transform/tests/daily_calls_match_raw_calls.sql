-- Calls per company and local day in daily_company_source_performance equal a count taken
-- straight from the raw calls table (not from fct_calls, which the aggregate is built from).
-- Returns the company-days that differ.
with raw_counts as (
    select
        calls.company_id,
        ((calls.start_time at time zone 'UTC')
            at time zone coalesce(companies.time_zone, calls.company_time_zone, 'UTC'))::date as local_date,
        count(distinct calls.id) as calls
    from {{ source('callrail', 'calls') }} as calls
    left join {{ source('callrail', 'companies') }} as companies
        on companies.id = calls.company_id
        and companies._sdc_deleted_at is null
    where calls._sdc_deleted_at is null
    group by 1, 2
),

aggregate_counts as (
    select company_id, local_date, sum(calls) as calls
    from {{ ref('daily_company_source_performance') }}
    group by 1, 2
    having sum(calls) > 0
)

select
    coalesce(raw_counts.company_id, aggregate_counts.company_id) as company_id,
    coalesce(raw_counts.local_date, aggregate_counts.local_date) as local_date,
    raw_counts.calls as raw_calls,
    aggregate_counts.calls as aggregate_calls
from raw_counts
full outer join aggregate_counts
    on aggregate_counts.company_id = raw_counts.company_id
    and aggregate_counts.local_date = raw_counts.local_date
where raw_counts.calls is distinct from aggregate_counts.calls
