-- The real-editor test, run by tests/it/nvim.rs inside `nvim --headless --clean -u tests/init.lua`:
-- the plugin drives the real `swiss lsp` on a fixture repository against the scripted backend.
-- $SWISS_NVIM_TEST names a JSON file with `repo`, `issue` and `scenario`:
--   command      :SwissFix, diagnostics, hover, :SwissCandidates, :SwissApply, :checkhealth
--   code_action  :SwissCancel, then the "Fix issue…" and "Apply winning patch" code actions
--   parts        a winner with hunks in calc/fmt.py and calc/ops.py: :SwissCompare, then
--                :SwissApply {id} {hunk} on the calc/ops.py hunk alone
--   kept         a job, then a new server: the kept job is the last job again, and
--                :SwissCandidates and :SwissApply without a job id work on it
--   health       :checkhealth swiss with settings.sandbox.hosts: the first host does not answer,
--                the second is the engine here and holds settings.sandbox.image
-- Any failed check ends Neovim with exit status 1 and a message on stderr.
local params = vim.json.decode(table.concat(vim.fn.readfile(vim.env.SWISS_NVIM_TEST), '\n'))
local swiss = require('swiss')

local JOB_TIMEOUT = 30000
local SHORT = 10000

local function log(msg)
  io.stdout:write('[e2e] ' .. msg .. '\n')
end

local function check(cond, msg, ...)
  if not cond then
    error(select('#', ...) > 0 and msg:format(...) or msg, 0)
  end
end

local function wait_for(what, timeout, cond)
  local value
  local ok = vim.wait(timeout, function()
    value = cond()
    return value ~= nil and value ~= false
  end, 20)
  check(ok, 'timed out after %d ms waiting for %s', timeout, what)
  return value
end

local function read_file(path)
  local f = assert(io.open(path, 'r'))
  local text = f:read('*a')
  f:close()
  return text
end

local function contains(haystack, needle)
  return haystack:find(needle, 1, true) ~= nil
end

-- What the user would have seen, for the checks and for the log of a failed run.
local notes, progress, job_ends, applied = {}, {}, {}, {}
vim.notify = function(msg, level)
  table.insert(notes, { msg = msg, level = level })
  log(('notify(%s): %s'):format(tostring(level), msg))
end
vim.api.nvim_create_autocmd('LspProgress', {
  callback = function(ev)
    local p = ev.data.params
    table.insert(progress, p)
    log(('progress %s %s %s'):format(p.token, p.value.kind, p.value.message or p.value.title or ''))
  end,
})
vim.api.nvim_create_autocmd('User', {
  pattern = 'SwissJobEnd',
  callback = function(ev)
    job_ends[ev.data.job] = ev.data
  end,
})
vim.api.nvim_create_autocmd('User', {
  pattern = 'SwissApplied',
  callback = function(ev)
    table.insert(applied, ev.data)
  end,
})

local ops_path = params.repo .. '/calc/ops.py'
local BUG = '    return a // b'
local FIX = '    return a / b'

local function open_ops()
  vim.cmd.edit(vim.fn.fnameescape(ops_path))
  local buf = vim.api.nvim_get_current_buf()
  local client = wait_for('the swiss client to attach and initialize', SHORT, function()
    local c = vim.lsp.get_clients({ name = 'swiss', bufnr = buf })[1]
    return c and c.initialized and c
  end)
  check(client.root_dir and vim.fs.normalize(client.root_dir) == vim.fs.normalize(params.repo),
    'root_dir is %s, not the fixture %s', tostring(client.root_dir), params.repo)
  return buf, client
end

local function lines(buf)
  return vim.api.nvim_buf_get_lines(buf, 0, -1, false)
end

local function index_of(list, value)
  for i, v in ipairs(list) do
    if v == value then
      return i
    end
  end
end

--- The job started after `previous`, and its end.
local function wait_job(client, previous)
  local job = wait_for('a job id', SHORT, function()
    local last = swiss.last_job(client.id)
    return last ~= previous and last
  end)
  log('job ' .. job)
  local done = wait_for('the end of ' .. job, JOB_TIMEOUT, function()
    return job_ends[job]
  end)
  return job, done
end

local function swiss_diagnostics(buf, code)
  return vim.tbl_filter(function(d)
    return d.source == 'swiss' and (code == nil or d.code == code)
  end, vim.diagnostic.get(buf))
end

--- The winner diagnostic of `job`, checked against the bug's line.
local function winner_diagnostic(buf, job)
  local diags = wait_for('the winner diagnostics', SHORT, function()
    local d = swiss_diagnostics(buf, 'winner')
    return #d > 0 and d
  end)
  check(#diags == 1, 'one winning hunk, one diagnostic; got %s', vim.inspect(diags))
  local d = diags[1]
  local bug_line = index_of(lines(buf), BUG) - 1
  check(d.lnum == bug_line, 'the diagnostic is on line %d, the bug on line %d', d.lnum, bug_line)
  check(d.severity == vim.diagnostic.severity.INFO, 'severity %s', tostring(d.severity))
  local data = d.user_data and d.user_data.lsp and d.user_data.lsp.data
  check(type(data) == 'table' and data.job == job and type(data.candidate) == 'number',
    'diagnostic data %s', vim.inspect(data))
  check(#swiss_diagnostics(buf, 'localized') == 0, 'the localized diagnostics are withdrawn')
  return d, data
end

--- Waits for the edit, writes the buffer, and checks buffer and disk.
local function check_applied(buf, before)
  local bug_index = index_of(before, BUG)
  wait_for('the edit in the buffer', SHORT, function()
    return vim.api.nvim_buf_get_lines(buf, bug_index - 1, bug_index, false)[1] == FIX
  end)
  local expected = vim.deepcopy(before)
  expected[bug_index] = FIX
  check(vim.deep_equal(lines(buf), expected), 'the buffer after the edit:\n%s', table.concat(lines(buf), '\n'))
  check(contains(read_file(ops_path), BUG), 'Neovim changes the buffer, the disk only on :write')
  wait_for('the diagnostics to clear', SHORT, function()
    return #swiss_diagnostics(buf, nil) == 0
  end)
  if vim.bo[buf].modified then
    vim.api.nvim_buf_call(buf, function()
      vim.cmd('write')
    end)
  end
  check(read_file(ops_path) == table.concat(expected, '\n') .. '\n', 'on disk:\n%s', read_file(ops_path))
end

local function float_window()
  for _, win in ipairs(vim.api.nvim_list_wins()) do
    if vim.api.nvim_win_get_config(win).relative ~= '' then
      return win
    end
  end
end

local scenarios = {}

function scenarios.command()
  local buf, client = open_ops()
  local before = lines(buf)

  vim.cmd('SwissFix ' .. params.issue)
  local job, done = wait_job(client, nil)
  check(done.state == 'succeeded' and type(done.winner) == 'number' and done.reason == nil
    and vim.startswith(done.message, 'winner: candidate ' .. done.winner), 'job end %s', vim.inspect(done))
  check(swiss.job_info(client.id, job).state == 'succeeded', 'the plugin recorded the end: %s',
    vim.inspect(swiss.job_info(client.id, job)))
  local token = 'swiss/' .. job
  local begin = vim.tbl_filter(function(p)
    return p.token == token and p.value.kind == 'begin'
  end, progress)[1]
  check(begin and begin.value.title == 'Swiss: divide() floors its result', 'progress begin %s', vim.inspect(begin))
  check(#vim.tbl_filter(function(p)
    return p.token == token and p.value.kind == 'report'
  end, progress) > 0, 'progress reports')
  check(#vim.tbl_filter(function(n)
    return contains(n.msg, job .. ': winner: ')
  end, notes) == 1, 'one notification of the winner')

  local d, data = winner_diagnostic(buf, job)
  log('diagnostic: ' .. d.message)
  check(data.candidate == done.winner, 'swiss/jobEnded names the winner of the diagnostics')

  -- Hover, the raw answer: the table as docs/lsp.md prints it.
  vim.api.nvim_win_set_cursor(0, { d.lnum + 1, d.col })
  local answers = vim.lsp.buf_request_sync(buf, 'textDocument/hover',
    vim.lsp.util.make_position_params(0, client.offset_encoding), SHORT)
  local answer = answers and answers[client.id]
  check(answer and answer.result and answer.result.contents, 'a hover answer: %s', vim.inspect(answers))
  local markdown = answer.result.contents.value
  check(answer.result.contents.kind == 'markdown', 'markdown hover')
  check(contains(markdown, '| id | votes | similarity | regression failures | reproduction | score | filtered out | winner |'),
    'the hover table header:\n%s', markdown)
  check(markdown:find('\n| ' .. data.candidate .. ' | 3 | [%d.]+ | not run | not run | [%d.]+ |  | ★ |'),
    'the winner row:\n%s', markdown)
  check(contains(markdown, '-' .. BUG) and contains(markdown, '+' .. FIX), 'the winning change:\n%s', markdown)

  -- Hover, the built-in UI with no setup: a floating window with the same table.
  vim.lsp.buf.hover()
  local win = wait_for('the hover window', SHORT, float_window)
  local shown = table.concat(vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(win), 0, -1, false), '\n')
  check(contains(shown, 'regression failures') and contains(shown, '★'), 'the hover window:\n%s', shown)
  vim.api.nvim_win_close(win, true)

  -- :SwissCandidates, the picker answered with the first (the winner).
  local picked
  local select = vim.ui.select
  vim.ui.select = function(items, opts, on_choice)
    picked = { items = items, opts = opts, shown = vim.tbl_map(opts.format_item, items) }
    on_choice(items[1], 1)
  end
  vim.cmd('SwissCandidates')
  wait_for('the candidate picker', SHORT, function()
    return picked
  end)
  vim.ui.select = select
  log('picker: ' .. table.concat(picked.shown, ' | '))
  check(#picked.items == 2, 'two candidates, got %d', #picked.items)
  -- No sandbox here, so the band comes with the caveat that verification was off.
  check(vim.startswith(picked.opts.prompt, ('Swiss %s candidates (divide() floors its result), confidence '):format(job))
    and contains(picked.opts.prompt, '; lowered: verification was off'), 'prompt %q', picked.opts.prompt)
  check(picked.shown[1]:match('^#' .. data.candidate .. ' ★ score [%d.]+ · 3 votes · ') and contains(picked.shown[1], 'calc/ops.py'),
    'the winner line %q', picked.shown[1])
  check(not contains(picked.shown[2], '★') and contains(picked.shown[2], 'never verified (sandbox none or no test command)'),
    'the runner-up line says why it lost: %q', picked.shown[2])
  local preview = wait_for('the diff preview', SHORT, function()
    local b = vim.api.nvim_get_current_buf()
    return vim.bo[b].filetype == 'diff' and b
  end)
  local diff = table.concat(lines(preview), '\n')
  check(contains(diff, 'diff --git a/calc/ops.py b/calc/ops.py') and contains(diff, '-' .. BUG) and contains(diff, '+' .. FIX),
    'the preview:\n%s', diff)
  check(vim.bo[preview].buftype == 'nofile' and not vim.bo[preview].modifiable, 'a read-only scratch buffer')
  check(vim.b[preview].swiss_candidate.candidate == data.candidate, 'the preview knows its candidate')
  vim.cmd('close')
  check(vim.api.nvim_get_current_buf() == buf, 'back in calc/ops.py')

  -- :SwissApply: the server sends workspace/applyEdit and Neovim applies it.
  vim.cmd('SwissApply')
  check_applied(buf, before)
  wait_for('the SwissApplied event', SHORT, function()
    return applied[1]
  end)

  -- :checkhealth swiss finds this binary and reaches this backend (which has no /models).
  vim.cmd('checkhealth swiss')
  local report = table.concat(lines(0), '\n')
  log('checkhealth:\n' .. report)
  check(report:find('OK[^\n]*swiss %d+%.%d+%.%d+'), 'checkhealth finds swiss --version:\n%s', report)
  local url = params.settings.backend.urls[1]
  local expected = vim.fn.executable('curl') == 1 and (url .. ' answers, but with HTTP 404')
    or ('curl is not installed, so ' .. url .. ' was not checked')
  check(contains(report, expected), 'checkhealth and the backend:\n%s', report)
  check(report:find('OK[^\n]*local runs confined by '), 'checkhealth reports the confinement:\n%s', report)
end

--- The line of `report` that holds `needle`, or nil.
local function line_with(report, needle)
  for line in report:gmatch('[^\n]+') do
    if contains(line, needle) then
      return line
    end
  end
end

function scenarios.health()
  vim.cmd('checkhealth swiss')
  local report = table.concat(lines(0), '\n')
  log('checkhealth:\n' .. report)
  local sandbox = params.settings.sandbox
  local down = sandbox.hosts[1]:gsub('=%d+$', '')
  local line = line_with(report, down .. ' does not answer (5 slots): ')
  check(line and contains(line, 'ERROR'), 'an error for the host that does not answer:\n%s', report)
  check(contains(report, 'start that engine or fix the address in sandbox.hosts'), 'what to do about it:\n%s', report)
  line = line_with(report, sandbox.hosts[2] .. ': engine ')
  check(line and contains(line, 'OK'), 'OK for the engine here:\n%s', report)
  check(contains(line, ', 2 slots, image ' .. sandbox.image .. ' present'), 'its slots and the image:\n%s', report)
  check(contains(report, '1 of 2 hosts answer: 2 runs at once'), 'the hosts summed up:\n%s', report)
  check(report:find('OK[^\n]*local runs confined by '), 'checkhealth still reports the confinement:\n%s', report)
end

function scenarios.code_action()
  local buf, client = open_ops()
  local before = lines(buf)

  -- A job that the scripted backend's latency keeps running long enough to be cancelled.
  vim.cmd('SwissFix ' .. params.issue)
  local cancelled = wait_for('a job id', SHORT, function()
    return swiss.last_job(client.id)
  end)
  vim.cmd('SwissCancel')
  local done = wait_for('the end of ' .. cancelled, SHORT, function()
    return job_ends[cancelled]
  end)
  check(done.state == 'cancelled' and done.reason == 'user' and done.winner == nil
    and done.message == 'cancelled; nothing was changed', 'cancel: %s', vim.inspect(done))
  check(#swiss_diagnostics(buf) == 0, 'a cancelled job leaves no diagnostics')

  -- "Fix issue…": the code action sends swiss.fixIssue without an issue; the plugin asks.
  local asked
  local input = vim.ui.input
  vim.ui.input = function(opts, on_confirm)
    asked = opts
    on_confirm(params.issue)
  end
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  vim.lsp.buf.code_action({
    apply = true,
    filter = function(action)
      return action.title == 'Fix issue…'
    end,
  })
  wait_for('the issue prompt', SHORT, function()
    return asked
  end)
  vim.ui.input = input
  check(asked.default == nil, 'no reference on line 1 to prefill, got %s', tostring(asked.default))
  local job, finished = wait_job(client, cancelled)
  check(finished.state == 'succeeded' and vim.startswith(finished.message, 'winner: '), 'job end %s', vim.inspect(finished))
  local d = winner_diagnostic(buf, job)

  -- "Apply winning patch" on the diagnostic's line, through the built-in code action.
  vim.api.nvim_win_set_cursor(0, { d.lnum + 1, 0 })
  local titles = {}
  vim.lsp.buf.code_action({
    apply = true,
    filter = function(action)
      table.insert(titles, action.title)
      return vim.startswith(action.title, 'Apply winning patch')
    end,
  })
  local ok, err = pcall(check_applied, buf, before)
  check(ok, '%s (the code actions offered: %s)', tostring(err), table.concat(titles, ', '))
end

function scenarios.parts()
  local buf, client = open_ops()
  local before = lines(buf)
  local fmt_path = params.repo .. '/calc/fmt.py'
  local fmt_before = read_file(fmt_path)

  vim.cmd('SwissFix ' .. params.issue)
  local job, done = wait_job(client, nil)
  check(done.state == 'succeeded', 'job end %s', vim.inspect(done))
  local d, data = winner_diagnostic(buf, job)
  check(data.candidate == done.winner and data.hunk == 1,
    'the calc/ops.py hunk comes after calc/fmt.py\'s: %s', vim.inspect(data))
  local answer = client:request_sync('workspace/executeCommand',
    { command = 'swiss.candidates', arguments = { { job = job } } }, SHORT, buf)
  local plain
  for _, c in ipairs(answer.result.candidates) do
    if not contains(c.patch, 'calc/fmt.py') and contains(c.patch, '+' .. FIX) then
      plain = c.id
    end
  end
  check(plain, 'the plain fix among %s', vim.inspect(answer.result.candidates))

  -- :SwissCompare: the picker offers both files; calc/fmt.py opens as a diff split.
  local offered, compared
  local select = vim.ui.select
  vim.ui.select = function(items, _, on_choice)
    offered = items
    on_choice('calc/fmt.py', 1)
  end
  local group = vim.api.nvim_create_augroup('swiss.e2e.compare', {})
  vim.api.nvim_create_autocmd('User', {
    group = group,
    pattern = 'SwissCompare',
    callback = function(ev)
      compared = ev.data
    end,
  })
  vim.cmd(('SwissCompare %d %d'):format(done.winner, plain))
  wait_for('the comparison', SHORT, function()
    return compared
  end)
  vim.ui.select = select
  check(vim.deep_equal(offered, { 'calc/fmt.py', 'calc/ops.py' }), 'files offered: %s', vim.inspect(offered))
  local left, right = compared.buffers[1], compared.buffers[2]
  local left_text = table.concat(lines(left), '\n')
  local right_text = table.concat(lines(right), '\n')
  check(contains(left_text, '{value:.3g}'), 'the winner\'s calc/fmt.py:\n%s', left_text)
  check(right_text .. '\n' == fmt_before, 'the plain fix leaves calc/fmt.py as it was:\n%s', right_text)
  local wins = vim.api.nvim_tabpage_list_wins(0)
  check(#wins == 2, 'two windows in the comparison tab, got %d', #wins)
  check(vim.api.nvim_win_get_buf(wins[1]) == left and vim.api.nvim_win_get_buf(wins[2]) == right,
    'the first candidate on the left')
  for _, win in ipairs(wins) do
    check(vim.wo[win].diff, 'window %d is in diff mode', win)
  end
  check(vim.bo[left].filetype == 'python', 'filetype %q', vim.bo[left].filetype)
  vim.cmd('tabclose')
  check(vim.api.nvim_get_current_buf() == buf, 'back in calc/ops.py')

  -- :SwissApply {id} {hunk}: calc/ops.py's hunk alone; calc/fmt.py stays as it was.
  vim.cmd(('SwissApply %d %d'):format(done.winner, data.hunk))
  check_applied(buf, before)
  check(read_file(fmt_path) == fmt_before, 'the other hunk is left out:\n%s', read_file(fmt_path))
  local event = wait_for('the SwissApplied event', SHORT, function()
    return applied[1]
  end)
  check(event.candidate == done.winner, 'applied %s', vim.inspect(event))
  check(#vim.tbl_filter(function(n)
    return contains(n.msg, ('applied hunk 1 of candidate %d of %s'):format(done.winner, job))
  end, notes) == 1, 'a notification names the hunk')
  vim.cmd('SwissApply 1 x')
  check(contains(notes[#notes].msg, ':SwissApply takes hunk numbers; "x" is not a number'), 'bad hunk: %s',
    notes[#notes].msg)
end

function scenarios.kept()
  local buf, client = open_ops()
  local before = lines(buf)
  vim.cmd('SwissFix ' .. params.issue)
  local job, done = wait_job(client, nil)
  check(done.state == 'succeeded', 'job end %s', vim.inspect(done))
  local kept = params.repo .. '/.git/swiss/jobs/' .. job .. '/job.json'
  wait_for('the job kept in ' .. kept, SHORT, function()
    return vim.uv.fs_stat(kept)
  end)

  -- A new server, as after restarting Neovim: the plugin knows no job until swiss.jobs.
  client:stop()
  wait_for('the first client to stop', SHORT, function()
    return client:is_stopped()
  end)
  vim.cmd('edit!')
  local again = wait_for('a new swiss client', SHORT, function()
    local c = vim.lsp.get_clients({ name = 'swiss', bufnr = buf })[1]
    return c and c.id ~= client.id and c.initialized and c
  end)
  wait_for('the kept job as the last job', SHORT, function()
    return swiss.last_job(again.id) == job
  end)
  local info = swiss.job_info(again.id, job)
  check(info.state == 'succeeded' and info.winner == done.winner and info.message == 'kept from an earlier session',
    'the kept job: %s', vim.inspect(info))

  -- :SwissCandidates and :SwissApply with no job id find it.
  local picked
  local select = vim.ui.select
  vim.ui.select = function(items, opts, on_choice)
    picked = { items = items, opts = opts }
    on_choice(nil, nil)
  end
  vim.cmd('SwissCandidates')
  wait_for('the candidate picker', SHORT, function()
    return picked
  end)
  vim.ui.select = select
  check(#picked.items == 2 and vim.startswith(picked.opts.prompt, ('Swiss %s candidates'):format(job)),
    'the kept job\'s candidates: %s', vim.inspect(picked))
  vim.cmd('SwissApply')
  check_applied(buf, before)
end

local ok, err = xpcall(function()
  local scenario = scenarios[params.scenario]
  check(scenario, 'no scenario %s', tostring(params.scenario))
  scenario()
end, function(e)
  return debug.traceback(tostring(e), 2)
end)
if ok then
  log('scenario ' .. params.scenario .. ': passed')
  vim.cmd('qall!')
else
  io.stderr:write('[e2e] scenario ' .. params.scenario .. ' FAILED: ' .. tostring(err) .. '\n')
  vim.cmd('cquit 1')
end
