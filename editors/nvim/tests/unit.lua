-- Unit tests for the plugin's Lua logic, no framework: `nvim --headless --clean -l tests/unit.lua`
-- from editors/nvim (or any directory). Exits non-zero when a test fails.
local root = vim.fs.dirname(vim.fs.dirname(vim.fs.normalize(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p'))))
vim.opt.runtimepath:prepend(root)
vim.cmd('runtime plugin/swiss.lua')

local refs = require('swiss.refs')
local format = require('swiss.format')
local health = require('swiss.health')
local swiss = require('swiss')

local tests = {}
local function test(name, fn)
  table.insert(tests, { name = name, fn = fn })
end

local function eq(expected, actual, what)
  if not vim.deep_equal(expected, actual) then
    error(('%s:\n  expected %s\n  got      %s'):format(what or 'value', vim.inspect(expected), vim.inspect(actual)), 2)
  end
end

local function refs_of(line)
  return vim.tbl_map(function(r)
    return r.ref
  end, refs.find(line))
end

test('refs: the three kinds, as the server finds them', function()
  eq({ '#123' }, refs_of('    # FIXME: see #123.'))
  eq({ 'swiss-org/swiss#45', '#45' }, refs_of('// fixes swiss-org/swiss#45, also #45'))
  eq(
    { 'https://github.com/o/r/issues/7', 'https://gitlab.com/g/p/-/issues/9' },
    refs_of('# https://github.com/o/r/issues/7 and (https://gitlab.com/g/p/-/issues/9)')
  )
end)

test('refs: what is not a reference', function()
  eq({}, refs_of('x = a # b'))
  eq({}, refs_of('color: #fff; issue#12 a/b/c#3 #12345678901'))
  eq({}, refs_of('https://github.com/o/r/pull/7 https://example.com/issues/'))
  eq({ '#7' }, refs_of('#7 #7 (#7)'), 'duplicates')
end)

test('refs: URL fragments and queries stay with the URL', function()
  eq({ 'https://github.com/o/r/issues/7#issuecomment-1' }, refs_of('see https://github.com/o/r/issues/7#issuecomment-1'))
  eq({ 'http://git.local/o/r/issues/12?x=1' }, refs_of('<http://git.local/o/r/issues/12?x=1>'))
end)

test('refs: columns cover the reference without trailing punctuation', function()
  local found = refs.find('see #12: and o/r#3!')
  eq({ { ref = '#12', first = 5, last = 7 }, { ref = 'o/r#3', first = 14, last = 18 } }, found)
end)

test('refs: the one under the cursor, else the first on the line', function()
  local line = 'fixes #1 and owner/repo#22'
  eq('owner/repo#22', refs.at(line, 14), 'cursor on the second')
  eq('owner/repo#22', refs.at(line, #line - 1), 'cursor on its last byte')
  eq('#1', refs.at(line, 6), 'cursor on the #')
  eq('#1', refs.at(line, 0), 'cursor before any')
  eq(nil, refs.at('def divide(a, b):', 3))
end)

local winner = {
  id = 1,
  votes = 3,
  similarity = 0.9375,
  score = 3.9375,
  regression_failures = 0,
  reproduced = false,
  filtered_out = false,
  selected = true,
  patch = 'diff --git a/calc/ops.py b/calc/ops.py\n--- a/calc/ops.py\n+++ b/calc/ops.py\n@@ -1 +1 @@\n-x\n+y\n',
}

test('format: the winner', function()
  eq(
    '#1 ★ score 3.9375 · 3 votes · similarity 0.9375 · regressions 0 · reproduction passes · calc/ops.py',
    format.candidate(winner)
  )
end)

test('format: a filtered candidate with results missing (JSON nulls)', function()
  local c = {
    id = 2,
    votes = 1,
    similarity = 0.5,
    score = 1.5,
    regression_failures = vim.NIL,
    reproduced = vim.NIL,
    filtered_out = true,
    selected = false,
    patch = 'diff --git a/a.py b/a.py\n@@\ndiff --git a/b/c.py b/b/c.py\n',
  }
  eq('#2 score 1.5000 · 1 vote · similarity 0.5000 · regressions not run · reproduction not run · filtered out · a.py, b/c.py', format.candidate(c))
  eq('fails', format.reproduction(true))
  eq({}, format.files(nil))
end)

test('format: the picker title', function()
  eq('Swiss job-2 candidates (divide() floors)', format.prompt('job-2', { issue = { title = 'divide() floors' } }))
  eq('Swiss job-2 candidates', format.prompt('job-2', { issue = vim.NIL }))
end)

test('format: each loser says why, in the words of the hover', function()
  local c = vim.tbl_extend('force', winner, {
    id = 2,
    selected = false,
    regression_failures = 5,
    reproduced = true,
    reasons = {
      { kind = 'breaks-tests', count = 5, tests = { 't::a', 't::b', 't::c' } },
      { kind = 'still-reproduced' },
    },
  })
  eq(
    '#2 score 3.9375 · 3 votes · similarity 0.9375 · regressions 5 · reproduction fails · calc/ops.py · breaks 5 regression test(s): t::a, t::b, t::c and 2 more; still prints Issue reproduced',
    format.candidate(c)
  )
  eq('', format.reasons({}), 'the winner')
  eq('', format.reasons(vim.NIL), 'a server without reasons')
  local cases = {
    { { kind = 'breaks-tests', count = 1, tests = {} }, 'breaks 1 regression test(s)' },
    { { kind = 'reproduction-unclear' }, 'the reproduction test prints no clear verdict with it (Other issues, or it failed)' },
    { { kind = 'never-verified' }, 'never verified (sandbox none or no test command)' },
    { { kind = 'verification-failed', error = 'failed to run: disk full' }, 'not verified: failed to run: disk full' },
    { { kind = 'not-tested' }, 'not verified: the job ended before its tests ran' },
    { { kind = 'filtered-out' }, 'dropped by the regression filter' },
    { { kind = 'fewer-votes', votes = 2, winner_votes = 3 }, 'fewer votes than the winner (2 vs 3)' },
    { { kind = 'same-votes-lower-similarity', similarity = 0.5, winner_similarity = 0.75 }, 'same votes, lower similarity (0.5000 vs 0.7500)' },
    { { kind = 'lower-score', score = 2.5, winner_score = 2.75 }, 'more votes, but its lower similarity leaves it behind (score 2.5000 vs 2.7500)' },
    { { kind = 'later-sample', first_sample = 4, winner_first_sample = 1 }, 'same score, first seen later (sample 4 vs 1)' },
    { { kind = 'from-a-newer-server' }, 'from-a-newer-server' },
  }
  for _, case in ipairs(cases) do
    eq(case[2], format.reasons({ case[1] }), case[1].kind)
  end
end)

test('format: the picker title gives the confidence band and what lowers it', function()
  local confidence = { share = 0.375, votes = 3, samples = 8, band = 'medium', resolve_rate = 0.62, source = 'SWE-Swiss', caveats = {} }
  eq(
    "Swiss job-2 candidates (divide() floors), confidence medium: 38% of the samples agree (3 of 8), 62% resolved in SWE-Swiss's runs",
    format.prompt('job-2', { issue = { title = 'divide() floors' }, confidence = confidence })
  )
  confidence.caveats = {
    { kind = 'early-stop', received = 8, requested = 30 },
    { kind = 'no-reproduction-test', note = vim.NIL },
  }
  eq(
    "confidence medium: 38% of the samples agree (3 of 8), 62% resolved in SWE-Swiss's runs; lowered: sampling stopped early: the share is over 8 of 30 requested samples; no valid reproduction test",
    format.confidence(confidence)
  )
  eq(nil, format.confidence(vim.NIL))
end)

test('health: [backend] of swiss.toml, wherever it sits', function()
  eq({ urls = { 'http://a/v1', 'http://b/v1' }, model = 'm' },
    health.toml_backend('[backend]\nurls = [\n  "http://a/v1",\n  "http://b/v1",\n]\nmodel = "m"\n'))
  eq({ api_key = 'k' }, health.toml_backend('[sandbox]\nkind = "docker"\n\n[backend] # remote\napi_key = "k"\n[repair]\nsamples = 4\n'))
  eq({}, health.toml_backend('[sandbox]\nimage = "x"\n'))
end)

test('health: editor settings over the environment over swiss.toml', function()
  local toml = { urls = { 'http://toml/v1' }, model = 'toml-model' }
  local env = { SWISS_BACKEND_URL = 'http://e1/v1, http://e2/v1', SWISS_API_KEY = 'env-key' }
  local urls, source, key, model = health.backend({ backend = { urls = { 'http://ed/v1' } } }, env, toml)
  eq({ { 'http://ed/v1' }, 'editor settings', 'env-key', 'toml-model' }, { urls, source, key, model })
  urls, source = health.backend({}, env, toml)
  eq({ { 'http://e1/v1', 'http://e2/v1' }, '$SWISS_BACKEND_URL' }, { urls, source })
  urls, source, key, model = health.backend({}, {}, toml)
  eq({ { 'http://toml/v1' }, 'swiss.toml', nil, 'toml-model' }, { urls, source, key, model })
  urls, source, key, model = health.backend({}, {}, {})
  eq({ {}, 'nowhere', nil, 'SWE-Swiss-32B' }, { urls, source, key, model })
end)

test('health: the sandbox of the editor settings as swiss doctor flags', function()
  eq({}, health.doctor_flags(nil))
  eq({ '--image', 'img:1', '--docker-host', 'ssh://ci@b=8', '--docker-host', 'tcp://c:2376' },
    health.doctor_flags({ image = 'img:1', hosts = { 'ssh://ci@b=8', 'tcp://c:2376' } }))
end)

test('health: one Docker host, by sandbox.kind', function()
  local down = { host = 'tcp://b:2376', slots = 1, ok = false, error = 'refused' }
  local level, text = health.docker_host(down, 'docker')
  eq({ 'error', 'tcp://b:2376 does not answer (1 slot): refused' }, { level, text })
  eq('warn', (health.docker_host(down, 'auto')))
  local up = { host = 'unix:///d.sock', slots = 4, ok = true, version = '27.1', image = 'img', image_present = false }
  level, text = health.docker_host(up, 'docker')
  eq({ 'error', 'unix:///d.sock: engine 27.1, 4 slots, but image img is missing' }, { level, text })
  up.image_present = true
  level, text = health.docker_host(up, 'docker')
  eq({ 'ok', 'unix:///d.sock: engine 27.1, 4 slots, image img present' }, { level, text })
  up.image = nil
  level, text = health.docker_host(up, nil)
  eq({ 'ok', 'unix:///d.sock: engine 27.1, 4 slots; no sandbox.image, so nothing is tested in it' }, { level, text })
end)

test('resolve_issue: files become absolute, the rest passes through', function()
  local dir = vim.fn.tempname()
  vim.fn.mkdir(dir, 'p')
  vim.fn.writefile({ 'title' }, dir .. '/issue.md')
  local cwd = vim.uv.cwd()
  vim.api.nvim_set_current_dir(dir)
  local ok, err = pcall(function()
    eq(dir .. '/issue.md', vim.fs.normalize(swiss.resolve_issue(' issue.md ')))
    eq('#123', swiss.resolve_issue('#123'))
    eq('divide() floors its result', swiss.resolve_issue('divide() floors its result'))
    eq('a\nb', swiss.resolve_issue('a\nb'))
  end)
  vim.api.nvim_set_current_dir(cwd)
  vim.fn.delete(dir, 'rf')
  assert(ok, err)
end)

--- Runs `fn` with `swiss.<name>` replaced by a recorder; returns the recorded calls.
local function recording(name, fn)
  local calls, original = {}, swiss[name]
  swiss[name] = function(...)
    table.insert(calls, { ... })
  end
  local ok, err = pcall(fn)
  swiss[name] = original
  assert(ok, err)
  return calls
end

test(':SwissFix passes its argument as written (no # or % expansion)', function()
  vim.cmd('edit ' .. vim.fn.fnameescape(vim.fn.tempname() .. '.py'))
  vim.cmd('edit ' .. vim.fn.fnameescape(vim.fn.tempname() .. '.py'))
  local calls = recording('fix', function()
    vim.cmd('SwissFix #123')
    vim.cmd('SwissFix divide() floors | 100% wrong')
  end)
  eq({ { '#123' }, { 'divide() floors | 100% wrong' } }, calls)
end)

test(':SwissFix with no argument prompts, prefilled from the cursor', function()
  local buf = vim.api.nvim_create_buf(true, true)
  vim.api.nvim_set_current_buf(buf)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, { 'x = 1', '# regressed in owner/repo#77, see #5' })
  vim.api.nvim_win_set_cursor(0, { 2, 35 })
  local asked = {}
  local input = vim.ui.input
  vim.ui.input = function(opts, on_confirm)
    table.insert(asked, opts)
    on_confirm(nil)
  end
  local ok, err = pcall(function()
    vim.cmd('SwissFix')
    vim.api.nvim_win_set_cursor(0, { 2, 0 })
    vim.cmd('SwissFix')
    vim.api.nvim_win_set_cursor(0, { 1, 0 })
    vim.cmd('SwissFix')
  end)
  vim.ui.input = input
  assert(ok, err)
  eq({ '#5', 'owner/repo#77' }, { asked[1].default, asked[2].default })
  eq(nil, asked[3].default)
  assert(asked[1].prompt:find('#123'), asked[1].prompt)
end)

test(':SwissApply takes a candidate number', function()
  local calls = recording('apply', function()
    vim.cmd('SwissApply')
    vim.cmd('SwissApply 3')
  end)
  eq({ {}, { 3 } }, calls)
end)

test('setup: settings go out as initializationOptions and as section swiss', function()
  swiss.setup({ binary = '/opt/swiss', settings = { repair = { samples = 4 } }, enable = false, keymaps = { cancel = '<leader>X' } })
  local cfg = vim.lsp.config.swiss
  eq({ '/opt/swiss', 'lsp' }, cfg.cmd)
  eq({ repair = { samples = 4 } }, cfg.init_options)
  eq({ swiss = { repair = { samples = 4 } } }, cfg.settings)
  eq({ '.git', 'swiss.toml' }, cfg.root_markers)
  eq(nil, cfg.filetypes)
  assert(type(cfg.commands['swiss.fixIssue']) == 'function', 'the client handles swiss.fixIssue')
  local map = vim.fn.maparg('<leader>X', 'n', false, true)
  eq('Swiss: cancel the job', map.desc)
  eq('Swiss: fix an issue', vim.fn.maparg('<leader>sf', 'n', false, true).desc)
end)

test('setup: swiss/jobEnded has its handler, next to the user\'s own', function()
  local mine = function() end
  swiss.setup({ enable = false, lsp = { handlers = { ['window/logMessage'] = mine } } })
  local handlers = vim.lsp.config.swiss.handlers
  assert(type(handlers['swiss/jobEnded']) == 'function', 'the client handles swiss/jobEnded')
  eq(mine, handlers['window/logMessage'])
end)

test('setup: kept jobs are listed at on_init, next to the user\'s own on_init', function()
  local listed, theirs = {}, {}
  local list_jobs = swiss.list_jobs
  swiss.list_jobs = function(client)
    table.insert(listed, client.id)
  end
  swiss.setup({ enable = false })
  vim.lsp.config.swiss.on_init({ id = 5 })
  swiss.setup({ enable = false, lsp = { on_init = function(client) table.insert(theirs, client.id) end } })
  vim.lsp.config.swiss.on_init({ id = 6 }, {})
  swiss.list_jobs = list_jobs
  eq({ 5, 6 }, listed)
  eq({ 6 }, theirs)
end)

test('swiss.jobs after a restart: kept jobs join the table and the newest becomes the last', function()
  local function summary(job, fields)
    return vim.tbl_extend('force', {
      job = job,
      issue = { title = 'divide() floors', body = '', url = vim.NIL },
      state = 'done',
      kept = true,
      files = {},
      winner = 1,
      applied = vim.NIL,
      candidates = {},
    }, fields)
  end
  swiss.on_jobs_listed(50, {
    summary('job-1', { applied = 2 }),
    summary('job-2', { winner = vim.NIL }),
    summary('job-3', {}),
    summary('job-4', { state = 'running', kept = false }),
  })
  eq({ state = 'applied', title = 'divide() floors', winner = 1, message = 'applied candidate 2' }, swiss.job_info(50, 'job-1'))
  eq({ state = 'no-candidate', title = 'divide() floors', message = 'kept from an earlier session' }, swiss.job_info(50, 'job-2'))
  eq({ state = 'succeeded', title = 'divide() floors', winner = 1, message = 'kept from an earlier session' }, swiss.job_info(50, 'job-3'))
  eq(nil, swiss.job_info(50, 'job-4'), 'a running job is known from its progress')
  eq('job-3', swiss.last_job(50))
  -- A last job already set stays the last, and what is known of a job is not overwritten.
  swiss.job_info(50, 'job-3').state = 'applied'
  swiss.on_jobs_listed(50, { summary('job-3', {}), summary('job-5', {}) })
  eq('applied', swiss.job_info(50, 'job-3').state)
  eq('succeeded', swiss.job_info(50, 'job-5').state)
  eq('job-3', swiss.last_job(50))
  swiss.on_jobs_listed(51, vim.NIL)
  eq(nil, swiss.last_job(51), 'an answer without jobs')
end)

--- What swiss/jobEnded does in this Neovim: the notifications and the SwissJobEnd events.
local function job_ended(client_id, result)
  local notes, events = {}, {}
  local notify = vim.notify
  vim.notify = function(msg)
    table.insert(notes, msg)
  end
  local group = vim.api.nvim_create_augroup('swiss.unit.jobend', {})
  vim.api.nvim_create_autocmd('User', {
    group = group,
    pattern = 'SwissJobEnd',
    callback = function(ev)
      table.insert(events, ev.data)
    end,
  })
  local ok, err = pcall(vim.lsp.config.swiss.handlers['swiss/jobEnded'], nil, result, { client_id = client_id, method = 'swiss/jobEnded' })
  vim.notify = notify
  vim.api.nvim_del_augroup_by_id(group)
  assert(ok, err)
  return notes, events
end

test('swiss/jobEnded decides how a job ended, whatever its message says', function()
  local won = 'winner: candidate 3 (score 1.71, 1 vote(s)) of 2 unique candidate(s) from 4 sample(s)'
  local notes, events = job_ended(41, { job = 'job-1', state = 'succeeded', winner = 3, message = won, reason = vim.NIL })
  eq({ state = 'succeeded', winner = 3, message = won }, swiss.job_info(41, 'job-1'))
  eq({ 'Swiss: job-1: ' .. won .. '. :SwissApply applies it, :SwissCandidates compares' }, notes)
  eq({ { client_id = 41, job = 'job-1', state = 'succeeded', winner = 3, message = won } }, events)

  -- The text alone would read as a win; the state says it was cancelled, and why.
  notes, events = job_ended(41, { job = 'job-2', state = 'cancelled', winner = vim.NIL, message = 'winner: no', reason = 'user' })
  eq({ state = 'cancelled', message = 'winner: no', reason = 'user' }, swiss.job_info(41, 'job-2'))
  eq({ 'Swiss: job-2: winner: no' }, notes)
  eq('user', events[1].reason)

  -- The server has already shown these two with window/showMessage.
  for _, state in ipairs({ 'failed', 'no-candidate' }) do
    notes, events = job_ended(41, { job = 'job-3', state = state, winner = vim.NIL, message = 'x', reason = vim.NIL })
    eq({}, notes, state)
    eq(state, events[1].state)
    eq(state, swiss.job_info(41, 'job-3').state)
  end
end)

test('swiss/jobEnded keeps an applied job applied, and ignores what is not a job', function()
  job_ended(42, { job = 'job-1', state = 'succeeded', winner = 1, message = 'winner: candidate 1' })
  swiss.job_info(42, 'job-1').state = 'applied'
  job_ended(42, { job = 'job-1', state = 'succeeded', winner = 1, message = 'winner: candidate 1' })
  eq('applied', swiss.job_info(42, 'job-1').state)
  local notes, events = job_ended(42, { state = 'succeeded' })
  eq({}, notes)
  eq({}, events)
end)

test('the code action command without arguments asks for the issue', function()
  local prompted = recording('prompt_fix', function()
    swiss.fix_issue_command({ command = 'swiss.fixIssue' }, { bufnr = 1, client_id = 7 })
  end)
  eq({ { { bufnr = 1, client_id = 7 } } }, prompted)
  local fixed = recording('fix', function()
    swiss.fix_issue_command({ command = 'swiss.fixIssue', arguments = { { issue = '#9' } } }, { bufnr = 1, client_id = 7 })
  end)
  eq({ { '#9', { bufnr = 1, client_id = 7 } } }, fixed)
  -- "Fix issue here…": the file goes along, the issue is asked for.
  local here = recording('prompt_fix', function()
    swiss.fix_issue_command({ command = 'swiss.fixIssue', arguments = { { files = { 'file:///r/a.py' } } } }, { bufnr = 1, client_id = 7 })
  end)
  eq({ { { bufnr = 1, client_id = 7, files = { 'file:///r/a.py' } } } }, here)
end)

test(':SwissFixHere pins the current file, with the issue given or asked for', function()
  local path = vim.fn.tempname() .. '.py'
  vim.cmd('edit ' .. vim.fn.fnameescape(path))
  local buf = vim.api.nvim_get_current_buf()
  local fixed = recording('fix', function()
    vim.cmd('SwissFixHere #12')
  end)
  eq({ { '#12', { bufnr = buf, files = { vim.api.nvim_buf_get_name(buf) } } } }, fixed)
  local prompted = recording('prompt_fix', function()
    vim.cmd('SwissFixHere')
  end)
  eq({ { { bufnr = buf, files = { vim.api.nvim_buf_get_name(buf) } } } }, prompted)
end)

test('doc/swiss.txt: tags are unique and every command has one', function()
  local dir = vim.fn.tempname()
  vim.fn.mkdir(dir, 'p')
  vim.fn.writefile(vim.fn.readfile(root .. '/doc/swiss.txt'), dir .. '/swiss.txt')
  vim.cmd('helptags ' .. vim.fn.fnameescape(dir))
  local tags = {}
  for _, line in ipairs(vim.fn.readfile(dir .. '/tags')) do
    tags[line:match('^[^\t]+')] = true
  end
  vim.fn.delete(dir, 'rf')
  for _, tag in ipairs({ 'swiss.txt', ':SwissFix', ':SwissFixHere', ':SwissCancel', ':SwissCandidates', ':SwissApply', 'swiss.setup()', 'swiss-health' }) do
    assert(tags[tag], 'no tag *' .. tag .. '*')
  end
  for i, line in ipairs(vim.fn.readfile(root .. '/doc/swiss.txt')) do
    assert(vim.fn.strdisplaywidth(line) <= 78, ('doc/swiss.txt:%d is wider than 78 columns'):format(i))
  end
end)

local passed, failed = 0, 0
for _, t in ipairs(tests) do
  local ok, err = pcall(t.fn)
  if ok then
    passed = passed + 1
    io.stdout:write('ok   ' .. t.name .. '\n')
  else
    failed = failed + 1
    io.stdout:write('FAIL ' .. t.name .. '\n  ' .. tostring(err):gsub('\n', '\n  ') .. '\n')
  end
end
io.stdout:write(('%d passed, %d failed\n'):format(passed, failed))
os.exit(failed == 0 and 0 or 1)
