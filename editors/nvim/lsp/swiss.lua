--- The `swiss` language server for `vim.lsp.config()` / `vim.lsp.enable()` (Neovim 0.11+).
--- `require('swiss').setup()` layers the binary and the settings over this.
---
--- No `filetypes`: the server works on any file of a repository, since an issue can point
--- anywhere, and it sees unsaved buffers only if it is attached to them.
return {
  cmd = { 'swiss', 'lsp' },
  -- Jobs run on the git work tree; swiss.toml sits at its root.
  root_markers = { '.git', 'swiss.toml' },
  -- The "Fix issue…" code action sends `swiss.fixIssue` without an issue for the editor to ask
  -- for one; handling it here makes the built-in vim.lsp.buf.code_action() do that.
  commands = {
    ['swiss.fixIssue'] = function(command, ctx)
      require('swiss').fix_issue_command(command, ctx)
    end,
  },
  -- Jobs kept from earlier sessions join the job table, so the commands default to the last.
  on_init = function(client)
    require('swiss').list_jobs(client)
  end,
  -- How each job ended, so that nothing has to read it out of the progress text.
  handlers = {
    ['swiss/jobEnded'] = function(err, result, ctx)
      require('swiss').on_job_ended(err, result, ctx)
    end,
  },
}
