--- Text for the candidate list of `:SwissCandidates`, from the `swiss.candidates` result
--- (docs/lsp.md, docs/json.md): each candidate with why it lost, and the job's confidence. Pure functions, so that the headless unit tests can pin the wording.
local M = {}

--- The verdict of the reproduction test, seen from the patch: the server's `reproduced` is
--- seen from the issue (`false` means the issue no longer reproduces, so the patch passes).
function M.reproduction(reproduced)
  if reproduced == false then
    return 'passes'
  elseif reproduced == true then
    return 'fails'
  end
  return 'not run'
end

--- The files a unified patch touches, in order: the `b/` side of each `diff --git` header.
--- @param patch string|nil
--- @return string[]
function M.files(patch)
  local files = {}
  for path in (patch or ''):gmatch('diff %-%-git a/%S+ b/(%S+)') do
    table.insert(files, path)
  end
  return files
end

local function number(value)
  return type(value) == 'number' and value or nil
end

local function plural(n, word)
  return ('%d %s%s'):format(n, word, n == 1 and '' or 's')
end

local function breaks(r)
  local count = number(r.count) or 0
  local tests = type(r.tests) == 'table' and r.tests or {}
  local text = ('breaks %d regression test(s)'):format(count)
  if #tests > 0 then
    text = text .. ': ' .. table.concat(tests, ', ')
    if count > #tests then
      text = text .. (' and %d more'):format(count - #tests)
    end
  end
  return text
end

--- Each `reasons` kind (docs/json.md "Reasons") in the words of the server's hover and CLI.
local REASONS = {
  ['breaks-tests'] = breaks,
  ['still-reproduced'] = function()
    return 'still prints Issue reproduced'
  end,
  ['reproduction-unclear'] = function()
    return 'the reproduction test prints no clear verdict with it (Other issues, or it failed)'
  end,
  ['never-verified'] = function()
    return 'never verified (sandbox none or no test command)'
  end,
  ['verification-failed'] = function(r)
    return 'not verified: ' .. tostring(r.error)
  end,
  ['not-tested'] = function()
    return 'not verified: the job ended before its tests ran'
  end,
  ['filtered-out'] = function()
    return 'dropped by the regression filter'
  end,
  ['fewer-votes'] = function(r)
    return ('fewer votes than the winner (%d vs %d)'):format(number(r.votes) or 0, number(r.winner_votes) or 0)
  end,
  ['same-votes-lower-similarity'] = function(r)
    return ('same votes, lower similarity (%.4f vs %.4f)'):format(number(r.similarity) or 0, number(r.winner_similarity) or 0)
  end,
  ['lower-score'] = function(r)
    return ('more votes, but its lower similarity leaves it behind (score %.4f vs %.4f)'):format(
      number(r.score) or 0,
      number(r.winner_score) or 0
    )
  end,
  ['later-sample'] = function(r)
    return ('same score, first seen later (sample %d vs %d)'):format(number(r.first_sample) or 0, number(r.winner_first_sample) or 0)
  end,
}

--- Why a candidate lost, `; `-separated as the server's hover has it; '' for the winner.
--- @param reasons table|nil the candidate's `reasons`
--- @return string
function M.reasons(reasons)
  local texts = {}
  for _, r in ipairs(type(reasons) == 'table' and reasons or {}) do
    local describe = type(r) == 'table' and REASONS[r.kind]
    -- A kind newer than this plugin still says something by its name.
    table.insert(texts, describe and describe(r) or tostring(type(r) == 'table' and r.kind or r))
  end
  return table.concat(texts, '; ')
end

local CAVEATS = {
  ['unverified'] = function()
    return 'verification was off'
  end,
  ['no-regression-check'] = function()
    return 'no candidate was regression-checked'
  end,
  ['no-reproduction-test'] = function(c)
    local note = type(c.note) == 'string' and (' (' .. c.note .. ')') or ''
    return 'no valid reproduction test' .. note
  end,
  ['reproduction-not-passed'] = function()
    return 'the winner did not pass the reproduction test'
  end,
  ['winner-not-tested'] = function()
    return 'the sandbox could not test the winner'
  end,
  ['early-stop'] = function(c)
    return ('sampling stopped early: the share is over %d of %d requested samples'):format(
      number(c.received) or 0,
      number(c.requested) or 0
    )
  end,
}

local function percent(x)
  return ('%d%%'):format(math.floor((number(x) or 0) * 100 + 0.5))
end

--- The job's confidence band in one line (the hover has its source), or nil without one.
--- @param confidence table|nil the `confidence` of the `swiss.candidates` result
--- @return string|nil
function M.confidence(confidence)
  if type(confidence) ~= 'table' or type(confidence.band) ~= 'string' then
    return nil
  end
  local text = ("confidence %s: %s of the samples agree (%d of %d), %s resolved in SWE-Swiss's runs"):format(
    confidence.band,
    percent(confidence.share),
    number(confidence.votes) or 0,
    number(confidence.samples) or 0,
    percent(confidence.resolve_rate)
  )
  local caveats = {}
  for _, c in ipairs(type(confidence.caveats) == 'table' and confidence.caveats or {}) do
    local describe = type(c) == 'table' and CAVEATS[c.kind]
    table.insert(caveats, describe and describe(c) or tostring(type(c) == 'table' and c.kind or c))
  end
  if #caveats > 0 then
    text = text .. '; lowered: ' .. table.concat(caveats, '; ')
  end
  return text
end

--- One line per candidate, e.g. `#1 ★ score 3.9375 · 3 votes · similarity 0.9375 ·
--- regressions 0 · reproduction passes · calc/ops.py`
--- @param c table an entry of `candidates` in the `swiss.candidates` result
--- @return string
function M.candidate(c)
  local parts = {}
  local head = ('#%s'):format(tostring(c.id))
  if c.selected == true then
    head = head .. ' ★'
  end
  table.insert(parts, ('%s score %.4f'):format(head, number(c.score) or 0))
  table.insert(parts, plural(number(c.votes) or 0, 'vote'))
  table.insert(parts, ('similarity %.4f'):format(number(c.similarity) or 0))
  local failures = number(c.regression_failures)
  table.insert(parts, 'regressions ' .. (failures and tostring(failures) or 'not run'))
  table.insert(parts, 'reproduction ' .. M.reproduction(c.reproduced))
  if c.filtered_out == true then
    table.insert(parts, 'filtered out')
  end
  local files = M.files(c.patch)
  if #files > 0 then
    table.insert(parts, table.concat(files, ', '))
  end
  local why = M.reasons(c.reasons)
  if why ~= '' then
    table.insert(parts, why)
  end
  return table.concat(parts, ' · ')
end

--- The title of the candidate picker: the job, its issue and its confidence band.
--- @param job string
--- @param result table the `swiss.candidates` result
function M.prompt(job, result)
  local title = type(result.issue) == 'table' and result.issue.title or nil
  local prompt = ('Swiss %s candidates'):format(job)
  if type(title) == 'string' and title ~= '' then
    prompt = ('%s (%s)'):format(prompt, title)
  end
  local confidence = M.confidence(result.confidence)
  if confidence then
    prompt = ('%s, %s'):format(prompt, confidence)
  end
  return prompt
end

return M
