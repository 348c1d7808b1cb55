--- `:checkhealth swiss`: can Neovim start the server, does the model backend answer, does each
--- Docker host of the sandbox answer and hold the image (`swiss doctor`), and how are local test
--- runs confined. Each check is short and bounded by a timeout, since checkhealth blocks the
--- editor while it runs.
local M = {}

local health = vim.health

local TIMEOUT_MS = 3000

local function config()
  local ok, resolved = pcall(function()
    return vim.lsp.config.swiss
  end)
  return ok and resolved or nil
end

--- The settings the editor sends: `setup{settings}` or whatever `vim.lsp.config` holds.
local function editor_settings(cfg)
  local opts = package.loaded['swiss'] and package.loaded['swiss'].options or {}
  if type(opts.settings) == 'table' then
    return opts.settings
  end
  if cfg and type(cfg.settings) == 'table' and type(cfg.settings.swiss) == 'table' then
    return cfg.settings.swiss
  end
  if cfg and type(cfg.init_options) == 'table' then
    return cfg.init_options
  end
  return {}
end

--- The `[backend]` table of swiss.toml, read just far enough for the keys checked here (a
--- string or an array of strings on one or more lines); the server reads the file properly.
--- @return table<string, string|string[]>
function M.toml_backend(text)
  -- The padding lets one pattern find the table at the start, middle or end of the file.
  local section = ('\n' .. text .. '\n['):match('\n%[backend%][^\n]*\n(.-)\n%[')
  local out = {}
  if not section then
    return out
  end
  for key, array in section:gmatch('([%w_]+)%s*=%s*(%b[])') do
    local list = {}
    for s in array:gmatch('"([^"]*)"') do
      table.insert(list, s)
    end
    out[key] = list
  end
  for key, s in section:gmatch('([%w_]+)%s*=%s*"([^"]*)"') do
    out[key] = out[key] or s
  end
  return out
end

--- Where the backend is, in the order the server merges its sources (later wins).
--- @return string[] urls, string source, string|nil api_key, string model
function M.backend(settings, env, toml)
  local backend = type(settings.backend) == 'table' and settings.backend or {}
  local urls, source
  if type(backend.urls) == 'table' and #backend.urls > 0 then
    urls, source = backend.urls, 'editor settings'
  elseif env.SWISS_BACKEND_URL and env.SWISS_BACKEND_URL ~= '' then
    urls = vim.tbl_map(vim.trim, vim.split(env.SWISS_BACKEND_URL, ',', { trimempty = true }))
    source = '$SWISS_BACKEND_URL'
  elseif type(toml.urls) == 'table' and #toml.urls > 0 then
    urls, source = toml.urls, 'swiss.toml'
  else
    urls, source = {}, 'nowhere'
  end
  local key = backend.api_key or env.SWISS_API_KEY or toml.api_key
  local model = backend.model or env.SWISS_MODEL or toml.model or 'SWE-Swiss-32B'
  return urls, source, (key ~= '' and key or nil), model
end

local function binary_check(cfg)
  health.start('swiss: language server binary')
  local cmd = cfg and cfg.cmd
  if type(cmd) ~= 'table' or type(cmd[1]) ~= 'string' then
    health.warn('the swiss config has no command list; cannot check the binary')
    return
  end
  local path = vim.fn.exepath(cmd[1])
  if path == '' then
    health.error(('%s not found'):format(cmd[1]), {
      'Build it with `cargo build --release` in the Swiss repository and put target/release on $PATH',
      "or point the plugin at it: require('swiss').setup{ binary = '/path/to/swiss' }",
    })
    return
  end
  local ok, result = pcall(function()
    return vim.system({ path, '--version' }, { text = true }):wait(TIMEOUT_MS)
  end)
  if not ok then
    health.error(('%s does not run: %s'):format(path, tostring(result)))
  elseif result.code ~= 0 then
    local err = vim.trim(result.stderr or '')
    health.error(('`%s --version` exited with %d: %s'):format(path, result.code, err))
  else
    health.ok(('%s (%s)'):format(vim.trim(result.stdout), path))
  end
end

--- GET `url` with curl, the key sent on stdin so that it never shows in a process list.
--- @return integer|nil status, string body_or_error
function M.http_get(url, api_key)
  local args = {
    'curl', '--silent', '--show-error',
    '--max-time', tostring(TIMEOUT_MS / 1000),
    '--output', '-', '--write-out', '\n%{http_code}',
  }
  local stdin
  if api_key then
    vim.list_extend(args, { '--header', '@-' })
    stdin = 'Authorization: Bearer ' .. api_key .. '\n'
  end
  table.insert(args, url)
  local result = vim.system(args, { text = true, stdin = stdin }):wait(TIMEOUT_MS + 1000)
  if result.code ~= 0 then
    local err = vim.trim(result.stderr or '')
    return nil, err ~= '' and err or ('curl exited with ' .. tostring(result.code))
  end
  local body, status = (result.stdout or ''):match('^(.*)\n(%d+)$')
  return tonumber(status), body or ''
end

local function backend_check(cfg)
  health.start('swiss: model backend')
  local root = vim.fs.root(0, { '.git', 'swiss.toml' }) or vim.uv.cwd()
  local toml = {}
  local file = root and io.open(root .. '/swiss.toml', 'r')
  if file then
    toml = M.toml_backend(file:read('*a'))
    file:close()
  end
  local urls, source, key, model = M.backend(editor_settings(cfg), vim.env, toml)
  if #urls == 0 then
    health.error('no backend URL', {
      "set settings.backend.urls in require('swiss').setup{}, $SWISS_BACKEND_URL,"
        .. ' or [backend] urls in swiss.toml',
    })
    return
  end
  health.info(('backend from %s, model %s'):format(source, model))
  if vim.fn.executable('curl') ~= 1 then
    health.warn(('curl is not installed, so %s was not checked'):format(table.concat(urls, ', ')))
    return
  end
  for _, url in ipairs(urls) do
    local models_url = url:gsub('/+$', '') .. '/models'
    local status, body = M.http_get(models_url, key)
    if not status then
      health.error(('%s is not reachable: %s'):format(url, body), {
        'start the OpenAI-compatible server (vLLM, SGLang, …) or fix the URL; it usually ends in /v1',
      })
    elseif status == 200 then
      local ok, decoded = pcall(vim.json.decode, body)
      local ids = {}
      if ok and type(decoded) == 'table' and type(decoded.data) == 'table' then
        for _, m in ipairs(decoded.data) do
          if type(m) == 'table' and type(m.id) == 'string' then
            table.insert(ids, m.id)
          end
        end
      end
      if #ids > 0 and not vim.list_contains(ids, model) then
        local served = table.concat(ids, ', ')
        health.warn(('%s answers, but does not list model %s (it serves: %s)'):format(url, model, served))
      else
        health.ok(('%s answers GET /models'):format(url))
      end
    elseif status == 401 or status == 403 then
      health.error(('%s refuses the key (HTTP %d on /models)'):format(url, status), {
        'set settings.backend.api_key or $SWISS_API_KEY',
      })
    else
      health.warn(('%s answers, but with HTTP %d on /models'):format(url, status))
    end
  end
end

--- One `swiss doctor --json` run with `flags`: the report, or why there is none.
--- @return table|nil report, string|nil error
local function doctor(path, flags)
  local root = vim.fs.root(0, { '.git', 'swiss.toml' }) or vim.uv.cwd()
  local args = { path, 'doctor', '--json', '--repo', root }
  vim.list_extend(args, flags)
  -- Hosts are checked at once by the server, so one slow host bounds the wait, not their count.
  local ok, result = pcall(function()
    return vim.system(args, { text = true }):wait(TIMEOUT_MS * 3)
  end)
  if not ok then
    return nil, tostring(result)
  end
  if result.code ~= 0 then
    local err = vim.trim(result.stderr or '')
    return nil, err ~= '' and err or ('exited with ' .. tostring(result.code))
  end
  local decoded_ok, report = pcall(vim.json.decode, result.stdout or '', { luanil = { object = true } })
  if not decoded_ok or type(report) ~= 'table' or type(report.confinement) ~= 'table' then
    return nil, 'its output is not a report'
  end
  return report
end

--- The flags that make `swiss doctor` check what the editor's settings name.
function M.doctor_flags(sandbox)
  local flags = {}
  if type(sandbox) ~= 'table' then
    return flags
  end
  if type(sandbox.image) == 'string' and sandbox.image ~= '' then
    vim.list_extend(flags, { '--image', sandbox.image })
  end
  for _, host in ipairs(type(sandbox.hosts) == 'table' and sandbox.hosts or {}) do
    vim.list_extend(flags, { '--docker-host', host })
  end
  return flags
end

--- What to say of one host of the report's `docker` list: level ('ok', 'warn' or 'error'),
--- the line, and what to do.
--- @return string level, string text, string[]|nil advice
function M.docker_host(host, kind)
  local slots = ('%d slot%s'):format(host.slots or 0, host.slots == 1 and '' or 's')
  if not host.ok then
    return kind == 'docker' and 'error' or 'warn',
      ('%s does not answer (%s): %s'):format(host.host, slots, host.error or 'no reason given'),
      { 'start that engine or fix the address in sandbox.hosts; jobs use the hosts that answer' }
  end
  local engine = ('%s: engine %s, %s'):format(host.host, host.version or '?', slots)
  if host.image == nil then
    return 'ok', engine .. '; no sandbox.image, so nothing is tested in it'
  end
  if host.image_present == false then
    return kind == 'docker' and 'error' or 'warn',
      ('%s, but image %s is missing'):format(engine, host.image),
      { ('build or pull %s on %s (docker build / docker pull)'):format(host.image, host.host) }
  end
  return 'ok', ('%s, image %s present'):format(engine, host.image)
end

local function docker_report(report, kind)
  health.start('swiss: sandbox')
  if kind == 'none' or kind == 'local' then
    health.info(('sandbox.kind = %q: Docker is not needed'):format(kind))
    return
  end
  local hosts = type(report) == 'table' and report.docker
  if type(hosts) ~= 'table' then
    health.warn('`swiss doctor` gave no report of the Docker hosts')
    return
  end
  local answering, slots = 0, 0
  for _, host in ipairs(hosts) do
    local level, text, advice = M.docker_host(host, kind)
    health[level](text, advice)
    if host.ok then
      answering, slots = answering + 1, slots + (host.slots or 0)
    end
  end
  if #hosts > 1 then
    health.info(('%d of %d hosts answer: %d runs at once'):format(answering, #hosts, slots))
  end
end

local function confinement_report(report)
  health.start('swiss: confinement of local test runs')
  local c = report.confinement
  if c.ok then
    health.ok(c.note)
  else
    health.error(('local test runs cannot be confined (%s)'):format(c.note), {
      'install bubblewrap (apt-get install bubblewrap), or use Docker (sandbox.kind = "docker" with sandbox.image)',
    })
  end
end

--- What `swiss doctor` says of the sandbox: each Docker host (those of sandbox.hosts, else the
--- local engine) and how local test runs are confined.
local function sandbox_check(cfg)
  local sandbox = editor_settings(cfg).sandbox
  local kind = type(sandbox) == 'table' and sandbox.kind or nil
  local cmd = cfg and cfg.cmd
  local path = type(cmd) == 'table' and type(cmd[1]) == 'string' and vim.fn.exepath(cmd[1]) or ''
  if path == '' then
    health.start('swiss: sandbox')
    health.warn('no swiss binary, so the Docker hosts and the confinement were not checked')
    return
  end
  local docker = kind ~= 'none' and kind ~= 'local'
  local flags = docker and vim.list_extend({ '--sandbox' }, M.doctor_flags(sandbox)) or { '--confinement' }
  local report, err = doctor(path, flags)
  if not report then
    health.start('swiss: sandbox')
    health.warn(('`swiss doctor` gave no report: %s'):format(err))
    return
  end
  docker_report(report, kind)
  confinement_report(report)
end

local function client_check()
  health.start('swiss: clients')
  local clients = vim.lsp.get_clients({ name = 'swiss' })
  if #clients == 0 then
    health.info('no swiss client is running (it starts on the first file opened in a git repository)')
  end
  for _, c in ipairs(clients) do
    health.ok(('client %d on %s'):format(c.id, c.root_dir or '(no root)'))
  end
end

function M.check()
  health.start('swiss: Neovim')
  if vim.fn.has('nvim-0.11') == 1 then
    health.ok('Neovim ' .. tostring(vim.version()))
  else
    health.error('Neovim 0.11 or later is needed (vim.lsp.config, vim.lsp.enable)')
  end
  local cfg = config()
  binary_check(cfg)
  backend_check(cfg)
  sandbox_check(cfg)
  client_check()
end

return M
