//! Handle methods (`status`, `read`, `write`, `close`, `transfer`, `localIP`, and the HTTP
//! extras), dispatched to the crate that owns the handle's state.

use modem_value::Value;
use psp_proto::{HandleId, HandleStatus};
use rednet_codec::{Delivered, ModemId};

use crate::args::SyscallError;
use crate::computer::Computer;
use handle_fsm::{HandleError as MethodError, Status};

use crate::io::Pid;
use crate::io::{Output, TcpRequest};
use crate::kinds::{Kind, MAX_REDNET_QUEUE};
use crate::registry::HandleKind;

fn no_method() -> SyscallError {
    SyscallError::NoSuchMethod
}

fn no_socket() -> SyscallError {
    SyscallError::Handle(crate::handles::HandleError::NoSuchSocket)
}

fn status_values(status: &str, error: Option<&str>) -> Vec<Value> {
    let mut v = vec![Value::from(status)];
    if let Some(e) = error {
        v.push(Value::from(e));
    }
    v
}

impl Computer {
    /// The kind of handle `id`, whoever owns it (`None` if no such handle exists). A Lua host
    /// uses it to give the handle object its methods ([`crate::registry::methods_of`]).
    pub fn handle_kind(&self, id: crate::io::HandleId) -> Option<HandleKind> {
        self.handles.get(id.0).map(Kind::handle_kind)
    }

    pub(crate) fn dispatch_method(
        &mut self,
        pid: Pid,
        id: HandleId,
        method: &str,
        args: &[Value],
    ) -> Result<Vec<Value>, SyscallError> {
        let kind = self.handles.get_mut(&self.procs, pid, id)?.handle_kind();
        let r = crate::registry::run_method(self, kind, pid, id, method, args);
        if matches!(
            kind,
            HandleKind::HttpClient
                | HandleKind::HttpRequest
                | HandleKind::WebSocket
                | HandleKind::WebListener
        ) {
            self.web_touch(id);
        }
        r
    }

    pub(crate) fn psp_method(
        &mut self,
        id: HandleId,
        method: &str,
        args: &[Value],
    ) -> Result<Vec<Value>, SyscallError> {
        match method {
            "status" => Ok(match self.psp.status(id) {
                Some((s, e)) => status_values(s.as_str(), e),
                None => status_values(HandleStatus::Closed.as_str(), None),
            }),
            "read" => {
                self.psp.check_read(id)?;
                let buf = self.psp.recv_buffer(id).ok_or_else(no_socket)?;
                handle_fsm::read_stream(buf, args).map_err(SyscallError::from)
            }
            "write" => {
                for v in args {
                    self.psp.write(self.now, id, v.to_lua_string())?;
                }
                Ok(vec![])
            }
            "close" => {
                self.psp.close(self.now, id)?;
                Ok(vec![])
            }
            "localIP" => Ok(vec![self
                .psp
                .local_ip(id)
                .map_or(Value::Nil, pip_core::addr::ip_value)]),
            _ => Err(no_method()),
        }
    }

    pub(crate) fn pdp_method(
        &mut self,
        id: HandleId,
        method: &str,
        args: &[Value],
    ) -> Result<Vec<Value>, SyscallError> {
        match method {
            "status" => Ok(vec![Value::from_static(if self.pdp.contains(id) {
                "open"
            } else {
                "closed"
            })]),
            // The mode argument is ignored: one datagram per read, nil when empty.
            "read" => Ok(vec![self.pdp.read(id)?.unwrap_or(Value::Nil)]),
            "write" => {
                let v = args.first().cloned().unwrap_or(Value::Nil);
                self.pdp.write(id, v)?;
                Ok(vec![])
            }
            "close" => {
                self.pdp.close(id)?;
                Ok(vec![])
            }
            "localIP" => Ok(vec![self
                .pdp
                .local_ip(id)
                .map_or(Value::Nil, pip_core::addr::ip_value)]),
            _ => Err(no_method()),
        }
    }

    pub(crate) fn rednet_method(
        &mut self,
        id: HandleId,
        method: &str,
        args: &[Value],
    ) -> Result<Vec<Value>, SyscallError> {
        let Some(Kind::Rednet(h)) = self.handles.get_internal_mut(id) else {
            return Err(no_socket());
        };
        let state = if h.closed { "closed" } else { "open" };
        match method {
            "status" => Ok(vec![Value::from_static(state)]),
            "read" if h.closed => Err(MethodError::Read(Status::Closed).into()),
            "read" => handle_fsm::read_queue(&mut h.queue, args).map_err(SyscallError::from),
            "write" if h.closed => Err(MethodError::Write(Status::Closed).into()),
            "write" => {
                let (target, protocol) = (h.target, h.protocol.clone());
                for v in args {
                    let r = match target {
                        Some(t) => {
                            self.rednet
                                .send(self.now, f64::from(t), v.clone(), protocol.clone())
                        }
                        None => self.rednet.broadcast(self.now, v.clone(), protocol.clone()),
                    };
                    r?;
                }
                Ok(vec![])
            }
            "close" if h.closed => Err(MethodError::Close(Status::Closed).into()),
            "close" => {
                h.closed = true;
                let modems = std::mem::take(&mut h.modems);
                self.release_rednet_modems(id, &modems);
                Ok(vec![])
            }
            _ => Err(no_method()),
        }
    }

    /// Closes rednet on each of `modems` that no other open rednet handle uses.
    fn release_rednet_modems(&mut self, closing: HandleId, modems: &[pip_core::Device]) {
        for m in modems {
            let still_used = self.rednet_ids().into_iter().any(|other| {
                other != closing
                    && matches!(self.handles.get_internal_mut(other),
                        Some(Kind::Rednet(h)) if !h.closed && h.modems.contains(m))
            });
            if !still_used {
                let _ = self.rednet.close(&ModemId::from(m.as_str()));
            }
        }
    }

    fn rednet_ids(&self) -> Vec<HandleId> {
        self.handles
            .ids()
            .filter(|id| matches!(self.handles.get(*id), Some(Kind::Rednet(_))))
            .collect()
    }

    /// Fans a received rednet message out to the handles that want it: target is
    /// the sender or broadcast/any, protocol unset or equal.
    pub(crate) fn deliver_rednet(&mut self, m: Delivered) {
        let mut ready = Vec::new();
        for id in self.rednet_ids() {
            let Some(Kind::Rednet(h)) = self.handles.get_internal_mut(id) else {
                continue;
            };
            let from_target = h.target.is_none_or(|t| f64::from(t) == m.sender);
            let proto_ok = h
                .protocol
                .as_ref()
                .is_none_or(|p| m.protocol.as_str() == Some(p));
            if h.closed || !from_target || !proto_ok {
                continue;
            }
            if h.queue.len() >= MAX_REDNET_QUEUE {
                self.stats.rednet_dropped += 1;
                continue;
            }
            h.queue.push_back(m.message.clone());
            ready.push(id);
        }
        for id in ready {
            self.handle_event(id, crate::io::Event::HandleDataReady { id: id.into() });
        }
    }

    pub(crate) fn web_method(
        &mut self,
        pid: Pid,
        id: HandleId,
        method: &str,
        args: &[Value],
    ) -> Result<Vec<Value>, SyscallError> {
        let request = match self.handles.get_internal_mut(id) {
            Some(Kind::HttpRequest { tcp, request }) => Some((*tcp, *request)),
            _ => None,
        };
        if let Some((tcp, rid)) = request {
            let r = self
                .server_request(tcp, rid)
                .ok_or(SyscallError::ClosedFile)?;
            return match method {
                "status" => Ok(vec![Value::from_static(r.status().as_str())]),
                "read" => r.read(args).map_err(SyscallError::from),
                "write" => r.write(args).map(|()| vec![]).map_err(SyscallError::from),
                "close" => r.close().map(|()| vec![]).map_err(SyscallError::from),
                "method" => Ok(vec![Value::from(r.method())]),
                "path" => Ok(vec![Value::from(r.path())]),
                "requestHeaders" => Ok(vec![r.request_headers()]),
                "requestTrailers" => Ok(vec![r.request_trailers()]),
                "setResponseCode" => {
                    let code = crate::args::Args(args).num(1)?;
                    let code = if (0.0..=65535.0).contains(&code) {
                        code as u16
                    } else {
                        0
                    };
                    let reason = crate::args::Args(args)
                        .opt_str(2)?
                        .map(|s| s.to_string_lossy());
                    r.set_response_code(code, reason.as_deref())
                        .map(|()| vec![])
                        .map_err(SyscallError::from)
                }
                "setResponseHeader" => {
                    let a = crate::args::Args(args);
                    let name = a.str(1)?.to_string_lossy();
                    let value = a.str(2)?.clone();
                    r.set_response_header(&name, &value)
                        .map(|()| vec![])
                        .map_err(SyscallError::from)
                }
                _ => Err(no_method()),
            };
        }
        let now = self.now;
        match self.handles.get_internal_mut(id) {
            Some(Kind::Http(st)) => {
                let h = &mut st.handle;
                match method {
                    "status" => {
                        let (s, e) = h.status();
                        Ok(status_values(s.as_str(), e))
                    }
                    "read" => h.read(args).map_err(SyscallError::from),
                    "write" => h.write(args).map(|()| vec![]).map_err(SyscallError::from),
                    "close" => h.close().map(|()| vec![]).map_err(SyscallError::from),
                    "responseCode" => {
                        let (code, reason) = h.response_code()?;
                        Ok(vec![Value::from(code), Value::from(reason)])
                    }
                    "responseHeaders" => Ok(vec![h.response_headers()?]),
                    _ => Err(no_method()),
                }
            }
            Some(Kind::Ws(st)) => {
                let h = &mut st.handle;
                match method {
                    "status" => {
                        let (s, e) = h.status();
                        Ok(status_values(s.as_str(), e))
                    }
                    "read" => h.read(args).map_err(SyscallError::from),
                    "readMessage" => match h.read_message().map_err(SyscallError::from)? {
                        Some((data, binary)) => Ok(vec![Value::from(data), Value::Bool(binary)]),
                        None => Ok(vec![Value::Nil]),
                    },
                    "closeReason" => Ok(match h.close_info() {
                        Some((code, reason)) => vec![
                            code.map_or(Value::Nil, Value::from),
                            reason.as_deref().map_or(Value::Nil, Value::from),
                        ],
                        None => vec![],
                    }),
                    "write" => h.write(args).map(|()| vec![]).map_err(SyscallError::from),
                    "close" => h.close(now).map(|()| vec![]).map_err(SyscallError::from),
                    _ => Err(no_method()),
                }
            }
            Some(Kind::WebListener { port }) => {
                let port = *port;
                match method {
                    "status" => Ok(vec![Value::from_static("open")]),
                    "close" => self.unlisten_web(pid, port).map(|()| vec![]),
                    _ => Err(no_method()),
                }
            }
            _ => Err(no_socket()),
        }
    }

    /// Drops a handle whatever its state (its process ended).
    pub(crate) fn forget_handle(&mut self, id: HandleId) {
        let Some(kind) = self.handles.remove(id) else {
            return;
        };
        match kind {
            Kind::Psp => {
                self.psp.release(id);
                self.conn_device.remove(&id);
            }
            Kind::Pdp => {
                let _ = self.pdp.close(id);
                self.pdp_listeners.retain(|_, l| *l != id);
            }
            Kind::Rednet(h) => {
                if !h.closed {
                    self.release_rednet_modems(id, &h.modems);
                }
            }
            Kind::Http(st) => {
                if let Some(t) = st.tcp {
                    self.push(Output::Tcp(TcpRequest::Close { conn: t }));
                }
            }
            Kind::Ws(st) => {
                if let Some(t) = st.tcp {
                    self.push(Output::Tcp(TcpRequest::Close { conn: t }));
                }
            }
            Kind::HttpRequest { .. } => {}
            Kind::WebListener { port } => self.forget_web_listener(port, id),
        }
    }
}
