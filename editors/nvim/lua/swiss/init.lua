--- Swiss for Neovim: a thin shim over the `swiss lsp` command API (docs/lsp.md). Diagnostics,
--- hover, code actions and progress are plain LSP and need nothing from here; this module adds
--- the commands that take an argument or show a picker, and remembers each client's last job so
--- that they can default to it.
local refs = require('swiss.refs')
local format = require('swiss.format')

local M = {}

local levels = vim.log.levels

--- What `setup()` was given, for `:checkhealth swiss`.
M.options = {}

--- Per client id: `last` (the job the commands default to) and `jobs[id]` =
--- `{ state, title?, message?, winner?, reason? }`, where `state` is `running`, `applied`, or
--- how the job ended as `swiss/jobEnded` says (`succeeded`, `no-candidate`, `failed`,
--- `cancelled`).
--- @type table<integer, {last: string|nil, jobs: table<string, table>}>
local state = {}

local DEFAULT_KEYMAPS = {
  fix = '<leader>sf',
  candidates = '<leader>sc',
  apply = '<leader>sa',
  cancel = '<leader>sx',
}

local function notify(msg, level)
  vim.notify('Swiss: ' .. msg, level or levels.INFO)
end

local function client_state(client_id)
  local s = state[client_id]
  if not s then
    s = { jobs = {} }
    state[client_id] = s
  end
  return s
end

--- @param make_last boolean whether the commands should default to this job from now on
local function record(client_id, job, fields, make_last)
  local s = client_state(client_id)
  local entry = s.jobs[job] or {}
  for k, v in pairs(fields) do
    entry[k] = v
  end
  s.jobs[job] = entry
  if make_last then
    s.last = job
  end
  return entry
end

--- The last job started through this client (by a command, a code action or the server's own
--- "Re-run Swiss"), or nil.
--- @param client_id integer
--- @return string|nil
function M.last_job(client_id)
  local s = state[client_id]
  return s and s.last or nil
end

--- What Swiss knows about a job from its progress and its `swiss/jobEnded`.
--- @return table|nil `{state, title?, message?, winner?, reason?}`
function M.job_info(client_id, job)
  local s = state[client_id]
  return s and s.jobs[job] or nil
end

--- The Swiss client for `bufnr`: the one attached to it, else the one a candidate preview
--- came from, else the client whose job ran last (commands also run from buffers the server is
--- not attached to, such as a diff preview or a new scratch buffer).
--- @param bufnr integer|nil
--- @return vim.lsp.Client|nil
function M.client(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local preview = vim.b[bufnr].swiss_candidate
  if type(preview) == 'table' and preview.client_id then
    local c = vim.lsp.get_client_by_id(preview.client_id)
    if c then
      return c
    end
  end
  local attached = vim.lsp.get_clients({ name = 'swiss', bufnr = bufnr })
  if attached[1] then
    return attached[1]
  end
  local all = vim.lsp.get_clients({ name = 'swiss' })
  for _, c in ipairs(all) do
    if M.last_job(c.id) then
      return c
    end
  end
  return all[1]
end

local function need_client(bufnr)
  local client = M.client(bufnr)
  if not client then
    notify(
      'no Swiss language server is running for this buffer. Call require("swiss").setup() or '
        .. 'vim.lsp.enable("swiss"), open a file inside a git repository, and see :checkhealth swiss',
      levels.ERROR
    )
  end
  return client
end

--- Sends `workspace/executeCommand` with the command's one argument object; `on_result` gets
--- the result, errors are shown. Bypasses the client-side command table on purpose: that table
--- routes `swiss.fixIssue` back here.
local function execute(client, command, argument, bufnr, on_result)
  -- Naming an attached buffer makes Neovim flush its pending changes before the request, so
  -- a job sees the text as it is on screen.
  local attached = bufnr and vim.lsp.buf_is_attached(bufnr, client.id) and bufnr or nil
  local params = { command = command, arguments = { argument } }
  client:request('workspace/executeCommand', params, function(err, result)
    if err then
      notify(err.message or tostring(err), levels.ERROR)
      return
    end
    if on_result then
      on_result(result)
    end
  end, attached)
end

--- Where the commands with no job argument point, with a message when there is none.
local function need_job(client, job)
  job = (job ~= nil and job ~= '') and job or M.last_job(client.id)
  if not job then
    notify('no Swiss job yet: start one with :SwissFix', levels.WARN)
  end
  return job
end

--- A file name that exists relative to Neovim's working directory becomes absolute, since the
--- server reads relative paths against the repository root, not against `:pwd`.
--- @param issue string
--- @return string
function M.resolve_issue(issue)
  issue = vim.trim(issue)
  if issue == '' or issue:find('\n') then
    return issue
  end
  local path = issue:gsub('^~/', (vim.uv.os_homedir() or '~') .. '/')
  local stat = vim.uv.fs_stat(path)
  if stat and stat.type == 'file' then
    return vim.fn.fnamemodify(path, ':p')
  end
  return issue
end

--- Starts a job on `issue` (a file, a reference such as `#123`, an issue URL, or the text).
--- @param issue string
--- @param opts? {bufnr?: integer, client_id?: integer}
function M.fix(issue, opts)
  opts = opts or {}
  local bufnr = opts.bufnr or vim.api.nvim_get_current_buf()
  local client = opts.client_id and vim.lsp.get_client_by_id(opts.client_id) or need_client(bufnr)
  if not client then
    return
  end
  issue = M.resolve_issue(issue or '')
  if issue == '' then
    notify('no issue given', levels.WARN)
    return
  end
  local argument = { issue = issue }
  if opts.files and #opts.files > 0 then
    argument.files = opts.files
  end
  execute(client, 'swiss.fixIssue', argument, bufnr, function(result)
    local job = type(result) == 'table' and result.job
    if type(job) ~= 'string' then
      return
    end
    local entry = record(client.id, job, {}, true)
    entry.state = entry.state or 'running'
    if entry.state == 'running' then
      notify(('%s started (:SwissCancel stops it)'):format(job))
    end
  end)
end

--- The issue reference under the cursor in the current window, if any.
function M.reference_under_cursor()
  local line = vim.api.nvim_get_current_line()
  local col = vim.api.nvim_win_get_cursor(0)[2]
  return refs.at(line, col)
end

--- Asks for the issue (prefilled from a reference under the cursor), then starts the job.
--- @param opts? {bufnr?: integer, client_id?: integer, files?: string[]}
function M.prompt_fix(opts)
  opts = opts or {}
  opts.bufnr = opts.bufnr or vim.api.nvim_get_current_buf()
  vim.ui.input({
    prompt = 'Swiss: fix issue (#123, owner/repo#123, URL, file or text): ',
    default = M.reference_under_cursor(),
    completion = 'file',
  }, function(input)
    if input and vim.trim(input) ~= '' then
      M.fix(input, opts)
    end
  end)
end

--- Fixes `issue` (asked for when empty) in the current file alone: the server skips its
--- localization and repairs that file (`:SwissFixHere`).
function M.fix_here(issue)
  local bufnr = vim.api.nvim_get_current_buf()
  local file = vim.api.nvim_buf_get_name(bufnr)
  if file == '' then
    notify('this buffer has no file to fix the issue in', levels.WARN)
    return
  end
  local opts = { bufnr = bufnr, files = { file } }
  if issue and vim.trim(issue) ~= '' then
    M.fix(issue, opts)
  else
    M.prompt_fix(opts)
  end
end

--- The client-side handler of `swiss.fixIssue`: the server's "Fix issue…" code action sends it
--- without arguments, and "Fix issue here…" with only `files`, and both expect the editor to
--- ask for the issue (docs/lsp.md).
function M.fix_issue_command(command, ctx)
  local argument = command.arguments and command.arguments[1]
  local opts = { bufnr = ctx.bufnr, client_id = ctx.client_id }
  if type(argument) == 'table' and type(argument.files) == 'table' then
    opts.files = argument.files
  end
  if type(argument) == 'table' and type(argument.issue) == 'string' and argument.issue ~= '' then
    M.fix(argument.issue, opts)
  else
    M.prompt_fix(opts)
  end
end

--- Stops a running job (the last one by default).
function M.cancel(job)
  local client = need_client()
  job = client and need_job(client, job)
  if not job then
    return
  end
  execute(client, 'swiss.cancel', { job = job })
end

--- Shows a candidate's patch in a scratch buffer with filetype `diff`. `:SwissApply` there
--- applies that candidate.
function M.preview(client_id, job, candidate)
  local name = ('swiss://%s/candidate-%s.diff'):format(job, tostring(candidate.id))
  local buf = vim.fn.bufnr('^' .. name .. '$')
  if buf == -1 or not vim.api.nvim_buf_is_valid(buf) then
    buf = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_name(buf, name)
  end
  vim.bo[buf].modifiable = true
  local patch = type(candidate.patch) == 'string' and candidate.patch or ''
  local text = patch:gsub('\n$', '')
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, vim.split(text, '\n', { plain = true }))
  vim.bo[buf].modifiable = false
  vim.bo[buf].bufhidden = 'wipe'
  vim.bo[buf].filetype = 'diff'
  vim.b[buf].swiss_candidate = { client_id = client_id, job = job, candidate = candidate.id }
  local win = vim.fn.bufwinid(buf)
  if win == -1 then
    vim.cmd('botright split')
    vim.api.nvim_win_set_buf(0, buf)
  else
    vim.api.nvim_set_current_win(win)
  end
  return buf
end

--- Lists the job's candidates with their scores; choosing one previews its diff.
function M.candidates(job)
  local client = need_client()
  job = client and need_job(client, job)
  if not job then
    return
  end
  execute(client, 'swiss.candidates', { job = job }, nil, function(result)
    local items = type(result) == 'table' and result.candidates or nil
    if type(items) ~= 'table' or #items == 0 then
      notify(job .. ' has no candidates', levels.WARN)
      return
    end
    vim.ui.select(items, {
      prompt = format.prompt(job, result),
      format_item = format.candidate,
      kind = 'swiss.candidate',
    }, function(choice)
      if choice then
        M.preview(client.id, job, choice)
      end
    end)
  end)
end

--- Applies a candidate (the winner by default) of the last job, or only some of its hunks
--- (numbered from 0 as the server numbers them: docs/lsp.md). The server sends
--- `workspace/applyEdit`, which Neovim applies to the buffers itself: one undoable change per
--- buffer, not yet written.
--- @param candidate? integer
--- @param job? string
--- @param hunks? integer[]
function M.apply(candidate, job, hunks)
  local bufnr = vim.api.nvim_get_current_buf()
  local preview = vim.b[bufnr].swiss_candidate
  if candidate == nil and job == nil and type(preview) == 'table' then
    candidate, job = preview.candidate, preview.job
  end
  local client = need_client(bufnr)
  job = client and need_job(client, job)
  if not job then
    return
  end
  local argument = { job = job }
  if candidate ~= nil then
    argument.candidate = candidate
  end
  if hunks ~= nil then
    argument.hunks = hunks
  end
  execute(client, 'swiss.applyCandidate', argument, nil, function(result)
    if type(result) == 'table' and result.applied == true then
      record(client.id, job, { state = 'applied' })
      local which = candidate and ('candidate ' .. candidate) or 'the winning patch'
      if hunks then
        which = ('hunk %s of %s'):format(table.concat(hunks, ', '), which)
      end
      notify(('applied %s of %s; :wall writes it, u undoes it'):format(which, job))
      vim.api.nvim_exec_autocmds('User', {
        pattern = 'SwissApplied',
        modeline = false,
        data = { client_id = client.id, job = job, candidate = candidate },
      })
    else
      local reason = type(result) == 'table' and result.failureReason or nil
      notify(
        ('Neovim did not apply %s: %s'):format(job, type(reason) == 'string' and reason or 'no reason given'),
        levels.WARN
      )
    end
  end)
end

--- A scratch buffer holding one side of a comparison.
local function compare_buffer(client_id, job, candidate, path, text)
  local name = ('swiss://%s/candidate-%s/%s'):format(job, tostring(candidate), path)
  local buf
  for _, b in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_get_name(b) == name then
      buf = b
    end
  end
  if not buf then
    buf = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_name(buf, name)
  end
  vim.bo[buf].modifiable = true
  local body = (text or ''):gsub('\n$', '')
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, text and vim.split(body, '\n', { plain = true }) or {})
  vim.bo[buf].modifiable = false
  vim.bo[buf].bufhidden = 'wipe'
  vim.bo[buf].filetype = vim.filetype.match({ filename = path }) or ''
  vim.b[buf].swiss_candidate = { client_id = client_id, job = job, candidate = candidate }
  return buf
end

--- Opens a new tab with `path` as candidates `a` and `b` leave it, side by side in diff mode.
--- The texts come from the server (`swiss.candidateText`), so nothing here applies a patch.
function M.compare_file(client, job, a, b, path)
  local texts = {}
  local function show()
    vim.cmd('tabnew')
    local left = compare_buffer(client.id, job, a, path, texts[a])
    vim.api.nvim_win_set_buf(0, left)
    vim.cmd('diffthis')
    vim.cmd('rightbelow vsplit')
    local right = compare_buffer(client.id, job, b, path, texts[b])
    vim.api.nvim_win_set_buf(0, right)
    vim.cmd('diffthis')
    vim.api.nvim_exec_autocmds('User', {
      pattern = 'SwissCompare',
      modeline = false,
      data = { client_id = client.id, job = job, candidates = { a, b }, path = path, buffers = { left, right } },
    })
  end
  for _, candidate in ipairs({ a, b }) do
    local argument = { job = job, candidate = candidate, path = path }
    execute(client, 'swiss.candidateText', argument, nil, function(result)
      texts[candidate] = type(result) == 'table' and type(result.text) == 'string' and result.text or false
      if texts[a] ~= nil and texts[b] ~= nil then
        show()
      end
    end)
  end
end

--- Compares candidates `a` and `b` of a job (the last one by default): picks a file either of
--- them changes (asking when there are several), then opens a diff split of the two versions.
--- @param a integer
--- @param b integer
--- @param job? string
function M.compare(a, b, job)
  local client = need_client()
  job = client and need_job(client, job)
  if not job then
    return
  end
  execute(client, 'swiss.candidates', { job = job }, nil, function(result)
    local by_id = {}
    for _, c in ipairs(type(result) == 'table' and result.candidates or {}) do
      by_id[c.id] = c
    end
    for _, id in ipairs({ a, b }) do
      if not by_id[id] then
        notify(('%s has no candidate %s'):format(job, tostring(id)), levels.ERROR)
        return
      end
    end
    local paths, seen = {}, {}
    for _, id in ipairs({ a, b }) do
      for _, path in ipairs(format.files(by_id[id].patch)) do
        if not seen[path] then
          seen[path] = true
          table.insert(paths, path)
        end
      end
    end
    table.sort(paths)
    if #paths <= 1 then
      if paths[1] then
        M.compare_file(client, job, a, b, paths[1])
      end
      return
    end
    vim.ui.select(paths, {
      prompt = ('Swiss %s: compare candidates %d and %d in'):format(job, a, b),
      kind = 'swiss.file',
    }, function(path)
      if path then
        M.compare_file(client, job, a, b, path)
      end
    end)
  end)
end

--- `LspProgress` for Swiss tokens (`swiss/<job>`): records the job and where it stands. How it
--- ended comes from `swiss/jobEnded` (|M.on_job_ended|), not from the progress text.
function M.on_progress(args)
  local data = args.data or {}
  local params = data.params or {}
  local client = data.client_id and vim.lsp.get_client_by_id(data.client_id)
  if not client or client.name ~= 'swiss' or type(params.token) ~= 'string' then
    return
  end
  local job = params.token:match('^swiss/(.+)$')
  local value = params.value
  if not job or type(value) ~= 'table' then
    return
  end
  if value.kind == 'begin' then
    record(client.id, job, { state = 'running', title = value.title }, true)
  elseif value.kind == 'report' then
    record(client.id, job, { message = value.message })
  end
end

--- The `swiss/jobEnded` handler (docs/lsp.md): records how the job ended, says so for a winner
--- and a cancel, and fires `User SwissJobEnd`. A failed job and one without a valid candidate
--- are already reported by the server with `window/showMessage`, so they get no second message.
--- @param result {job: string, state: string, winner: integer|vim.NIL, message: string, reason: string|vim.NIL}
--- @param ctx {client_id: integer}
function M.on_job_ended(_, result, ctx)
  if type(result) ~= 'table' or type(result.job) ~= 'string' or not ctx or not ctx.client_id then
    return
  end
  local job = result.job
  local function value(v)
    return v ~= vim.NIL and v or nil
  end
  local fields = {
    state = result.state,
    message = type(result.message) == 'string' and result.message or '',
    winner = value(result.winner),
    reason = value(result.reason),
  }
  local known = M.job_info(ctx.client_id, job)
  if known and known.state == 'applied' then
    -- An apply answered before this notification stays applied.
    fields.state = 'applied'
  end
  record(ctx.client_id, job, fields)
  if result.state == 'succeeded' then
    notify(('%s: %s. :SwissApply applies it, :SwissCandidates compares'):format(job, fields.message))
  elseif result.state == 'cancelled' then
    notify(('%s: %s'):format(job, fields.message))
  end
  vim.api.nvim_exec_autocmds('User', {
    pattern = 'SwissJobEnd',
    modeline = false,
    data = {
      client_id = ctx.client_id,
      job = job,
      state = result.state,
      winner = fields.winner,
      reason = fields.reason,
      message = fields.message,
    },
  })
end

--- Records the jobs of a `swiss.jobs` answer (docs/lsp.md) that this client does not know yet:
--- after a restart, the ones kept from earlier sessions. The newest finished one becomes the
--- last job unless one was started here already, so that :SwissApply and :SwissCandidates
--- without a job id find it, as after a job run in this session.
--- @param client_id integer
--- @param jobs table[] the `jobs` of the answer, oldest first
function M.on_jobs_listed(client_id, jobs)
  local newest
  for _, summary in ipairs(type(jobs) == 'table' and jobs or {}) do
    local job = type(summary) == 'table' and summary.job
    if type(job) == 'string' and summary.state ~= 'running' and not M.job_info(client_id, job) then
      local winner = type(summary.winner) == 'number' and summary.winner or nil
      local applied = type(summary.applied) == 'number' and summary.applied or nil
      local fields = {
        title = type(summary.issue) == 'table' and type(summary.issue.title) == 'string' and summary.issue.title or nil,
        winner = winner,
        message = summary.kept == true and 'kept from an earlier session' or '',
      }
      if applied then
        fields.state, fields.message = 'applied', ('applied candidate %d'):format(applied)
      elseif summary.state == 'done' then
        fields.state = winner and 'succeeded' or 'no-candidate'
      else
        fields.state = summary.state
      end
      record(client_id, job, fields)
      newest = job
    end
  end
  local s = client_state(client_id)
  if newest and not s.last then
    s.last = newest
  end
end

--- Asks a client that just started for the jobs its server knows (`on_init`), so that kept
--- jobs join the job table. A server without `swiss.jobs` only costs a message in the log.
--- @param client vim.lsp.Client
function M.list_jobs(client)
  client:request('workspace/executeCommand', { command = 'swiss.jobs', arguments = {} }, function(err, result)
    if err then
      vim.lsp.log.warn('swiss: failed to list the kept jobs: ' .. tostring(err.message or err))
      return
    end
    M.on_jobs_listed(client.id, type(result) == 'table' and result.jobs or nil)
  end)
end

--- Job ids for completion: every job this Neovim has seen, newest first.
function M.complete_jobs()
  local jobs = {}
  for _, s in pairs(state) do
    for id in pairs(s.jobs) do
      table.insert(jobs, id)
    end
  end
  table.sort(jobs, function(a, b)
    return (tonumber(a:match('%d+$')) or 0) > (tonumber(b:match('%d+$')) or 0)
  end)
  return jobs
end

--- @class swiss.Options
--- @field cmd? string[] how to start the server (default `{ 'swiss', 'lsp' }`)
--- @field binary? string the `swiss` executable, when `cmd` is not given
--- @field settings? table the server's settings (docs/lsp.md "Configuration"), sent as
---   initializationOptions and as the answer to `workspace/configuration` for section `swiss`
--- @field keymaps? boolean|table `true` for the defaults, or `{fix=, candidates=, apply=, cancel=}`
--- @field lsp? table more `vim.lsp.config` fields (root_markers, filetypes, on_attach, …)
--- @field enable? boolean `false` to only configure, and call `vim.lsp.enable('swiss')` yourself

--- @param opts? swiss.Options
function M.setup(opts)
  opts = opts or {}
  M.options = opts
  local config = vim.deepcopy(opts.lsp or {})
  if opts.cmd then
    config.cmd = opts.cmd
  elseif opts.binary then
    config.cmd = { opts.binary, 'lsp' }
  end
  if opts.settings ~= nil then
    config.init_options = opts.settings
    -- The server asks for section `swiss`; Neovim answers by looking that key up here.
    config.settings = { swiss = opts.settings }
  end
  if config.on_init then
    -- vim.lsp.config would replace the plugin's on_init (lsp/swiss.lua) with the user's.
    local theirs = config.on_init
    config.on_init = function(client, result)
      M.list_jobs(client)
      for _, fn in ipairs(type(theirs) == 'table' and theirs or { theirs }) do
        fn(client, result)
      end
    end
  end
  vim.lsp.config('swiss', config)
  if opts.enable ~= false then
    vim.lsp.enable('swiss')
  end

  if opts.keymaps then
    local chosen = type(opts.keymaps) == 'table' and opts.keymaps or {}
    local keys = vim.tbl_extend('force', DEFAULT_KEYMAPS, chosen)
    local actions = {
      fix = { function() M.prompt_fix() end, 'Swiss: fix an issue' },
      candidates = { function() M.candidates() end, 'Swiss: show candidates' },
      apply = { function() M.apply() end, 'Swiss: apply the winning patch' },
      cancel = { function() M.cancel() end, 'Swiss: cancel the job' },
    }
    for name, lhs in pairs(keys) do
      if lhs and actions[name] then
        vim.keymap.set('n', lhs, actions[name][1], { desc = actions[name][2] })
      end
    end
  end
end

return M
