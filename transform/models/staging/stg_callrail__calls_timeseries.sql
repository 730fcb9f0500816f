with counts as ({{ callrail_rows('calls_timeseries', key='company_id, date') }})

select
    company_id,
    account_id,
    date as local_date,
    time_zone,
    total_calls,
    answered_calls,
    missed_calls,
    first_time_callers,
    average_duration as average_duration_seconds,
    leads
from counts
