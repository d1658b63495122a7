// Starts GraphiQL with the options yoga rendered into the page (a data attribute: no inline script).
// Opened from the console in the same tab, it starts with the signed-in user's token.
const root = document.getElementById('root');
const options = JSON.parse(root.dataset.options || '{}');
const token = sessionStorage.getItem('lianqiao.token');
if (token) {
  let headers = {};
  try {
    headers = JSON.parse(options.headers || '{}');
  } catch {}
  options.headers = JSON.stringify({ ...headers, Authorization: `Bearer ${token}` }, null, 2);
}
YogaGraphiQL.renderYogaGraphiQL(root, options);
