// React picks its build from NODE_ENV when it first loads; unset, the CLI would
// get the development build, several times slower per dashboard frame. index.ts
// imports this before anything that loads React. An explicit NODE_ENV wins.
process.env.NODE_ENV ??= "production";
