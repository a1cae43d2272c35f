// A stand-in for Stash's window.PluginApi in the browser tests: the same libraries (the
// versions Stash ships, from node_modules), the same patch semantics (before returns new
// arguments, instead gets `next`, after gets the result), routes, components, events.
(function () {
  "use strict";

  var before = {};
  var instead = {};
  var after = {};
  var components = {};

  function add(table, name, fn) {
    (table[name] = table[name] || []).push(fn);
  }

  function runInstead(fns, target, ctx, args) {
    var index = 0;
    function call(callArgs) {
      if (index >= fns.length) return target.apply(ctx, callArgs);
      var fn = fns[index++];
      return fn.apply(ctx, callArgs.concat([function () { return call(Array.prototype.slice.call(arguments)); }]));
    }
    return call(args);
  }

  // Wrap a component the way Stash's PatchComponent does and register it by name.
  function patchComponent(name, component) {
    var patched = function () {
      var args = Array.prototype.slice.call(arguments);
      (before[name] || []).forEach(function (fn) { args = fn.apply(this, args); }, this);
      var result = instead[name] ? runInstead(instead[name], component, this, args) : component.apply(this, args);
      (after[name] || []).forEach(function (fn) { result = fn.apply(this, args.concat([result])); }, this);
      return result;
    };
    patched.displayName = name;
    components[name] = patched;
    return patched;
  }

  // A container that renders its children: Stash's PatchContainerComponent.
  function patchContainer(name) {
    return patchComponent(name, function (props) {
      return React.createElement(React.Fragment, null, props.children);
    });
  }

  var events = new EventTarget();

  window.PluginApi = {
    React: window.React,
    ReactDOM: window.ReactDOM,
    libraries: {
      ReactRouterDOM: window.ReactRouterDOM,
      Bootstrap: window.ReactBootstrap,
      Intl: window.ReactIntl,
      FontAwesomeSolid: window["free-solid-svg-icons"],
      Mousetrap: window.Mousetrap,
    },
    register: {
      // Stash implements routes as a `before` patch of PluginRoutes.
      route: function (path, component) {
        add(before, "PluginRoutes", function (props) {
          var Route = window.ReactRouterDOM.Route;
          var route = React.createElement(Route, { key: path, path: path, component: component });
          return [Object.assign({}, props, { children: React.createElement(React.Fragment, null, props.children, route) })];
        });
      },
      component: function (name, fn) {
        components[name] = fn;
      },
    },
    patch: {
      before: function (name, fn) { add(before, name, fn); },
      instead: function (name, fn) { add(instead, name, fn); },
      after: function (name, fn) { add(after, name, fn); },
    },
    components: components,
    Event: events,
    utils: { NavUtils: {}, StashService: {}, InteractiveUtils: {} },
    hooks: {},
    // For the shell only (not part of Stash's API).
    _host: { patchComponent: patchComponent, patchContainer: patchContainer },
  };
})();
