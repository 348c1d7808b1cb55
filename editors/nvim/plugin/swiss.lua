-- User commands and the progress hook. Everything else loads on first use.
if vim.g.loaded_swiss then
  return
end
vim.g.loaded_swiss = true

local function swiss()
  return require('swiss')
end

-- A completion function rather than `complete = 'file'`: that would also expand `#` and `%`
-- in the argument, and `#123` must reach the server as written.
local function complete_issue(arglead)
  return vim.fn.getcompletion(arglead, 'file')
end

local function complete_jobs(arglead)
  return vim.tbl_filter(function(job)
    return vim.startswith(job, arglead)
  end, swiss().complete_jobs())
end

vim.api.nvim_create_user_command('SwissFix', function(args)
  if vim.trim(args.args) == '' then
    swiss().prompt_fix()
  else
    swiss().fix(args.args)
  end
end, {
  nargs = '?',
  complete = complete_issue,
  desc = 'Swiss: fix an issue (#123, owner/repo#123, URL, file or text)',
})

vim.api.nvim_create_user_command('SwissCancel', function(args)
  swiss().cancel(args.args ~= '' and args.args or nil)
end, { nargs = '?', complete = complete_jobs, desc = 'Swiss: cancel a job (the last one by default)' })

vim.api.nvim_create_user_command('SwissCandidates', function(args)
  swiss().candidates(args.args ~= '' and args.args or nil)
end, { nargs = '?', complete = complete_jobs, desc = "Swiss: pick a job's candidate and preview its diff" })

--- The command's arguments as numbers, or nil after saying which one is not.
local function numbers(command, args, what)
  local out = {}
  for i, arg in ipairs(args.fargs) do
    local n = tonumber(arg)
    if not n or n < 0 or n % 1 ~= 0 then
      vim.notify(('Swiss: :%s takes %s; %q is not a number'):format(command, what[i] or what[#what], arg),
        vim.log.levels.ERROR)
      return nil
    end
    out[i] = n
  end
  return out
end

vim.api.nvim_create_user_command('SwissApply', function(args)
  local n = numbers('SwissApply', args, { 'a candidate number', 'hunk numbers' })
  if not n then
    return
  end
  local hunks = #n > 1 and vim.list_slice(n, 2) or nil
  swiss().apply(n[1], nil, hunks)
end, { nargs = '*', desc = 'Swiss: apply the winning patch, candidate N, or hunks H… of candidate N' })

vim.api.nvim_create_user_command('SwissCompare', function(args)
  local n = numbers('SwissCompare', args, { 'two candidate numbers' })
  if not n then
    return
  end
  if #n ~= 2 then
    vim.notify('Swiss: :SwissCompare takes two candidate numbers, e.g. :SwissCompare 1 2', vim.log.levels.ERROR)
    return
  end
  swiss().compare(n[1], n[2])
end, { nargs = '+', desc = "Swiss: diff two candidates' versions of a file they change" })

vim.api.nvim_create_autocmd('LspProgress', {
  group = vim.api.nvim_create_augroup('swiss.progress', {}),
  callback = function(args)
    -- Every server's progress passes here; only Swiss tokens are worth loading the module for.
    local params = args.data and args.data.params
    if params and type(params.token) == 'string' and vim.startswith(params.token, 'swiss/') then
      swiss().on_progress(args)
    end
  end,
})
