--- Issue references in a line of text: `#123`, `owner/repo#123` and issue URLs (GitHub's
--- `…/issues/123`, GitLab's `…/-/issues/123`). The rules follow the server's own finder
--- (server/src/lsp/issue_refs.rs) so that `:SwissFix` prefills what the "Fix issue #123" code
--- action would offer on the same line.
local M = {}

-- Characters that end a token: a reference inside `(#12)` or "see #12," still counts.
local TOKEN = '[^%s%(%)%[%]<>"\'`,]+'

local function is_number(s)
  return #s > 0 and #s <= 10 and s:match('^%d+$') ~= nil
end

local function is_name(s)
  return #s > 0 and s:match('^[%w%-_%.]+$') ~= nil
end

local function issue_url(token)
  local rest = token:match('^https?://(.+)$')
  if not rest then
    return nil
  end
  -- The last `/issues/` wins, as a path segment named "issues" may come earlier.
  local number
  for n in rest:gmatch('/issues/([^/]*)') do
    number = n
  end
  if not number then
    return nil
  end
  number = number:match('^[^#?]*')
  return is_number(number) and token or nil
end

local function hash_reference(token)
  local before, number = token:match('^(.*)#([^#]*)$')
  if not before or not is_number(number) then
    return nil
  end
  if before == '' then
    return token
  end
  local owner, repo = before:match('^([^/]*)/(.*)$')
  if owner and is_name(owner) and is_name(repo) then
    return token
  end
  return nil
end

--- Every reference in `line`, in order and without duplicates.
--- @param line string
--- @return {ref: string, first: integer, last: integer}[] first/last: 1-based byte columns
function M.find(line)
  local found, seen = {}, {}
  local init = 1
  while true do
    local first, last = line:find(TOKEN, init)
    if not first then
      break
    end
    init = last + 1
    local token = line:sub(first, last)
    -- Sentence punctuation after a reference is not part of it.
    local trimmed = token:gsub('[%.:;!%?]+$', '')
    last = first + #trimmed - 1
    local ref = issue_url(trimmed) or hash_reference(trimmed)
    if ref and not seen[ref] then
      seen[ref] = true
      table.insert(found, { ref = ref, first = first, last = last })
    end
  end
  return found
end

--- The reference under the cursor, else the first one on the line: the cursor is rarely exactly
--- on the `#` of a comment that mentions an issue.
--- @param line string
--- @param col integer 0-based byte column, as nvim_win_get_cursor() gives it
--- @return string|nil
function M.at(line, col)
  local found = M.find(line)
  for _, r in ipairs(found) do
    if col + 1 >= r.first and col + 1 <= r.last then
      return r.ref
    end
  end
  return found[1] and found[1].ref or nil
end

return M
