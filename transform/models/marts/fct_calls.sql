-- One row per call, in the words an analyst asks in: local day, attribution, outcome.
with calls as (
    select * from {{ ref('stg_callrail__calls') }}
),

companies as (
    select company_id, company_name, time_zone from {{ ref('stg_callrail__companies') }}
)

select
    calls.call_id,
    calls.account_id,
    calls.company_id,
    coalesce(companies.company_name, calls.company_name) as company_name,
    calls.tracker_id,
    calls.started_at,
    -- The company's current zone; the zone CallRail printed on the call if the company is unsynced.
    (calls.started_at at time zone coalesce(companies.time_zone, calls.company_time_zone, 'UTC'))::date
        as started_local_date,
    calls.direction,
    calls.answered,
    calls.first_call,
    calls.duration_seconds,
    calls.source,
    calls.medium,
    calls.campaign,
    calls.milestones #>> '{first_touch,source}' as first_touch_source,
    calls.milestones #>> '{last_touch,source}' as last_touch_source,
    calls.gclid,
    calls.lead_status,
    calls.value,
    calls.tags
from calls
left join companies on companies.company_id = calls.company_id
