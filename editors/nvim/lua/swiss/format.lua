--- Text for the candidate list of `:SwissCandidates`, from one entry of the `swiss.candidates`
--- result (docs/lsp.md). Pure functions, so that the headless unit tests can pin the wording.
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
  return table.concat(parts, ' · ')
end

--- The title of the candidate picker.
--- @param job string
--- @param result table the `swiss.candidates` result
function M.prompt(job, result)
  local title = type(result.issue) == 'table' and result.issue.title or nil
  if type(title) == 'string' and title ~= '' then
    return ('Swiss %s candidates (%s)'):format(job, title)
  end
  return ('Swiss %s candidates'):format(job)
end

return M
