-- Startup file of the real-editor test (tests/it/nvim.rs, `nvim --clean -u tests/init.lua`): the
-- plugin from this checkout, started the way a user's config would start it. The test writes
-- the binary, the fixture and the settings to the JSON file named by $SWISS_NVIM_TEST.
local params = vim.json.decode(table.concat(vim.fn.readfile(vim.env.SWISS_NVIM_TEST), '\n'))
vim.opt.runtimepath:prepend(params.plugin)
require('swiss').setup({
  cmd = { params.swiss, 'lsp' },
  settings = params.settings,
})
