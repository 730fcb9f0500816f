-- The warehouse's calls per company and local day equal CallRail's own count of them
-- (calls_timeseries.total_calls), each day in the zone CallRail's counts use. Only the days
-- CallRail's counts cover are compared, and only zones PostgreSQL knows. A warning, not an error:
-- the warehouse keeps calls CallRail later removed as spam, and a day still under way gains calls
-- between the two reads. Returns the company-days that differ.
{{ config(severity='warn') }}

with callrail_counts as (
    select company_id, local_date, time_zone, total_calls
    from {{ ref('stg_callrail__calls_timeseries') }}
    where time_zone in (select name from pg_timezone_names)
),

zones as (
    select distinct on (company_id) company_id, time_zone
    from callrail_counts
    order by company_id, local_date desc
),

warehouse_counts as (
    select
        calls.company_id,
        (calls.started_at at time zone zones.time_zone)::date as local_date,
        count(*) as calls
    from {{ ref('stg_callrail__calls') }} as calls
    inner join zones
        on zones.company_id = calls.company_id
    group by 1, 2
)

select
    callrail_counts.company_id,
    callrail_counts.local_date,
    callrail_counts.total_calls as callrail_calls,
    coalesce(warehouse_counts.calls, 0) as warehouse_calls
from callrail_counts
left join warehouse_counts
    on warehouse_counts.company_id = callrail_counts.company_id
    and warehouse_counts.local_date = callrail_counts.local_date
where callrail_counts.total_calls is distinct from coalesce(warehouse_counts.calls, 0)
